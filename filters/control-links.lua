-- control-links.lua: links every mention of a control id in the text
-- ("8.13", "A.8.13", also inside Japanese sentences: "管理策8.13の対策",
-- "（8.13）", "8.13。") to the control's page, and records the mentions so
-- that control pages list the documents that mention them.
--
-- Left alone: ids that no catalog defines, version-like numbers (v8.13,
-- 8.13.1, 2.0.1), and text inside links, code and headings.
-- Shipped with tebiki; list it in site.yaml under `filters:`.

local controls = (SITE and SITE.controls) or {}

-- Finds control ids in a piece of text.  Returns a list of
-- {first, last, key} with byte positions, in order.
--
-- The matches are those of text:find("%d+%.%d+", init), found from the
-- '.' instead: a plain search for '.' skips a Japanese paragraph at
-- memchr speed, where the pattern would be tried at every byte.
local function isdigit(b) return b ~= nil and b >= 48 and b <= 57 end

local function scan(text)
  local found, init = {}, 1
  while true do
    local d = text:find(".", init + 1, true)
    if not d then break end
    if d - 1 >= init and isdigit(text:byte(d - 1)) and isdigit(text:byte(d + 1)) then
      local s, e = d - 1, d + 1
      while s > init and isdigit(text:byte(s - 1)) do s = s - 1 end
      while isdigit(text:byte(e + 1)) do e = e + 1 end
      init = e + 1
      local first = s
      if s > 2 and text:sub(s - 2, s - 1) == "A." then first = s - 2 end
      local before = first > 1 and text:sub(first - 1, first - 1) or ""
      local after = text:sub(e + 1, e + 2)
      local key = text:sub(s, e)
      -- a letter, digit or '.' right before, or ".<digit>" after, means a
      -- version number or a longer identifier, not a control
      if not before:match("[%w%.%-_/]") and not after:match("^%.%d")
          and not after:match("^%d") and controls[key] then
        found[#found + 1] = {first, e, key}
      end
    else
      init = d
    end
  end
  return found
end

-- The relative path from this page to the site root.
local function root()
  local url = PAGE and PAGE.url or ""
  local _, depth = url:gsub("/", "")
  return ("../"):rep(depth)
end

local function link_str(el)
  local found = scan(el.text)
  if #found == 0 then return nil end
  local out, pos, prefix = pandoc.List{}, 1, root()
  for _, f in ipairs(found) do
    local first, last, key = f[1], f[2], f[3]
    if first > pos then out:insert(pandoc.Str(el.text:sub(pos, first - 1))) end
    local c = controls[key]
    out:insert(pandoc.Link({pandoc.Str(el.text:sub(first, last))},
      prefix .. c.url, c.key .. " " .. c.title,
      {class = "control-ref", ["data-control"] = c.key}))
    pos = last + 1
  end
  if pos <= #el.text then out:insert(pandoc.Str(el.text:sub(pos))) end
  return out, false
end

-- Phase 1: which controls does this page mention?  page.text (the body's
-- plain text) is enough here, and much cheaper than walking page.doc.
local function collect(page)
  local seen, refs = {}, {}
  for _, f in ipairs(scan(page.text or "")) do
    if not seen[f[3]] then
      seen[f[3]] = true
      refs[#refs + 1] = {target = f[3], rel = "mentions"}
    end
  end
  if #refs > 0 then page.data.refs = refs end
  page.data.control_scan = true
end

return {
  collect = collect,
  -- collect reads only its page and SITE, and keeps nothing between
  -- pages: a rebuild may reuse its result for an unchanged page
  page_local = true,
  -- pages that mention no control are not converted at all (pages added
  -- by filters never went through collect, so they are always filtered)
  applies = function(page)
    return page.data.refs ~= nil or not page.data.control_scan
  end,
  {
    traverse = "topdown",
    -- text in links and headings is left alone: listed in skip, tebiki
    -- passes them over without handing them to Lua (docs/filters.md);
    -- the functions say the same to pandoc, which ignores skip
    skip = {"Link", "Header"},
    Link = function(l) return l, false end,
    Header = function(h) return h, false end,
    Str = link_str,
    -- link_str returns nil for every Str without such a number, so
    -- tebiki need not hand those to Lua at all (docs/filters.md)
    str_pattern = "%d+%.%d+",
  },
}
