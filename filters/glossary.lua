-- glossary.lua: links the first use of each glossary term on a page to its
-- entry in the glossary (glossary/index.html), with the definition shown on
-- hover and keyboard focus.  Terms come from the site's data/glossary.yaml
-- (term, aliases, definition).  Longer terms win over shorter ones that
-- they contain; text inside links, code and headings is left alone.
-- Shipped with tebiki; list it in site.yaml under `filters:`.

local entries = {}
for _, g in ipairs((SITE and SITE.glossary) or {}) do
  local names = {g.term}
  for _, a in ipairs(g.aliases or {}) do names[#names + 1] = a end
  for _, n in ipairs(names) do
    entries[#entries + 1] = {name = n, entry = g}
  end
end
-- longest first, then by name: deterministic and greedy
table.sort(entries, function(a, b)
  if #a.name ~= #b.name then return #a.name > #b.name end
  return a.name < b.name
end)

local done = {}   -- terms linked on this page (reset for every page)

local function root()
  local url = PAGE and PAGE.url or ""
  local _, depth = url:gsub("/", "")
  return ("../"):rep(depth)
end

local function is_word_byte(c)
  return c ~= "" and c:match("[%w_]") ~= nil
end

-- First unlinked term in text: start, stop, entry.
local function first_term(text)
  local best
  for _, t in ipairs(entries) do
    if not done[t.entry.anchor] then
      local s, e = text:find(t.name, 1, true)
      while s do
        -- ASCII terms must stand alone ("EDR" is not in "EDRS")
        local ascii = t.name:match("^[%w%s%-_%.]+$")
        if not ascii or (not is_word_byte(text:sub(s - 1, s - 1))
            and not is_word_byte(text:sub(e + 1, e + 1))) then
          break
        end
        s, e = text:find(t.name, e + 1, true)
      end
      if s and (not best or s < best[1]) then best = {s, e, t.entry} end
    end
  end
  return best
end

local function link_terms(el)
  local text, out, changed = el.text, pandoc.List{}, false
  while true do
    local hit = first_term(text)
    if not hit then break end
    local s, e, g = hit[1], hit[2], hit[3]
    done[g.anchor] = true
    changed = true
    if s > 1 then out:insert(pandoc.Str(text:sub(1, s - 1))) end
    out:insert(pandoc.Link({pandoc.Str(text:sub(s, e))},
      root() .. "glossary/index.html#" .. g.anchor, g.definition,
      {class = "term", ["data-definition"] = g.definition}))
    text = text:sub(e + 1)
  end
  if not changed then return nil end
  if text ~= "" then out:insert(pandoc.Str(text)) end
  return out, false
end

-- Phase 1: does the page use any term at all?
local function collect(page)
  local text = page.text or ""
  page.data.glossary_scan = true
  for _, t in ipairs(entries) do
    if text:find(t.name, 1, true) then page.data.has_terms = true; return end
  end
end

return {
  collect = collect,
  -- collect reads only its page and SITE, and keeps nothing between
  -- pages: a rebuild may reuse its result for an unchanged page
  page_local = true,
  applies = function(page)
    return page.data.has_terms == true or not page.data.glossary_scan
  end,
  {
    traverse = "topdown",
    skip = {"Link", "Header", "Code"},	-- and for pandoc:
    Link = function(l) return l, false end,
    Header = function(h) return h, false end,
    Code = function(c) return c, false end,
    Str = link_terms,
  },
}
