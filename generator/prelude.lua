-- prelude.lua: the pandoc-compatible Lua side of tebiki's filters.
--
-- Runs once in every filter lua_State, before the filter file.  Defines the
-- global `pandoc` (elements, constructors, List, utils, text), `spairs`, and
-- the internal table `_TEBIKI` used by the C side (element metatables, the
-- traversals, filter-file shape detection).  generator/luaprelude.c is
-- generated from this file by scripts/lua2c.sh; edit this file, then rerun.
local _TEBIKI = ...
local ipairs, pairs, type, setmetatable, getmetatable, rawget, rawset, error,
      tostring, select, next = ipairs, pairs, type, setmetatable,
      getmetatable, rawget, rawset, error, tostring, select, next
local tinsert, tremove, tsort, tconcat = table.insert, table.remove,
      table.sort, table.concat

local pandoc = {}
local mt = {}
_TEBIKI.mt = mt

-- the private keys of read-only proxies (see "site" below): a proxy holds
-- its table under RAWK, a wrapped table its proxy under PROXK
local RAWK, PROXK = {}, {}
local function raw_of(x)
	if type(x) ~= "table" then return nil end
	return rawget(x, RAWK)
end

---------------------------------------------------------------- List
local List = {}
List.__index = List
List.__name = "List"
mt.List = List

-- a lazy list (luaast.h) is filled before it gets the metatable; it would
-- get this one when filled anyway
local lazy_fill = _TEBIKI.fill
local function mklist(t)
	if t == nil then return setmetatable({}, List) end
	if lazy_fill then lazy_fill(t) end
	return setmetatable(t, List)
end

function List:new(t)
	if self ~= List and getmetatable(self) ~= List and t == nil then
		t = self
	end
	return mklist(t or {})
end
function List:clone()
	local r = {}
	for i = 1, #self do r[i] = self[i] end
	return mklist(r)
end
function List:extend(o)
	for i = 1, #o do self[#self + 1] = o[i] end
	return self
end
function List:insert(...) tinsert(self, ...) return self end
function List:remove(...) return tremove(self, ...) end
function List:sort(f) tsort(self, f) return self end
function List:at(i, default)
	if i < 0 then i = #self + i + 1 end
	local v = self[i]
	if v == nil then return default end
	return v
end
function List:includes(x, init)
	for i = init or 1, #self do if self[i] == x then return true end end
	return false
end
function List:find(x, init)
	for i = init or 1, #self do if self[i] == x then return self[i], i end end
	return nil
end
function List:find_if(f, init)
	for i = init or 1, #self do if f(self[i]) then return self[i], i end end
	return nil
end
function List:filter(f)
	local r = mklist()
	for i = 1, #self do if f(self[i], i) then r[#r + 1] = self[i] end end
	return r
end
function List:map(f)
	local r = mklist()
	for i = 1, #self do r[i] = f(self[i], i) end
	return r
end
function List:iter(step)
	local i = 0
	return function() i = i + 1 return self[i] end
end
function List.__concat(a, b)
	local r = mklist()
	for i = 1, #a do r[#r + 1] = a[i] end
	for i = 1, #b do r[#r + 1] = b[i] end
	return r
end
function List.__eq(a, b)
	if #a ~= #b then return false end
	for i = 1, #a do if a[i] ~= b[i] then return false end end
	return true
end
setmetatable(List, { __call = function(_, t) return mklist(t or {}) end })
pandoc.List = List

---------------------------------------------------------------- elements
local INLINE = {}
for _, t in ipairs{ "Str", "Space", "SoftBreak", "LineBreak", "Emph",
    "Strong", "Strikeout", "Underline", "Superscript", "Subscript",
    "SmallCaps", "Quoted", "Code", "Link", "Image", "RawInline", "Note",
    "Span", "Math", "Cite" } do INLINE[t] = true end
local BLOCK = {}
for _, t in ipairs{ "Para", "Plain", "Header", "CodeBlock", "RawBlock",
    "BlockQuote", "BulletList", "OrderedList", "HorizontalRule", "Div",
    "Table", "DefinitionList", "LineBlock", "Figure" } do BLOCK[t] = true end
_TEBIKI.INLINE, _TEBIKI.BLOCK = INLINE, BLOCK

-- child lists of each element, in traversal order:
-- I inlines, B blocks, LB list of blocks, LI list of inlines,
-- DL definition items, CAP caption, TH table head/foot, TB table bodies
local KIDS = {
	Emph = { { "content", "I" } }, Strong = { { "content", "I" } },
	Strikeout = { { "content", "I" } }, Underline = { { "content", "I" } },
	Superscript = { { "content", "I" } }, Subscript = { { "content", "I" } },
	SmallCaps = { { "content", "I" } }, Quoted = { { "content", "I" } },
	Link = { { "content", "I" } }, Image = { { "caption", "I" } },
	Span = { { "content", "I" } }, Cite = { { "content", "I" } },
	Note = { { "content", "B" } },
	Para = { { "content", "I" } }, Plain = { { "content", "I" } },
	Header = { { "content", "I" } }, BlockQuote = { { "content", "B" } },
	Div = { { "content", "B" } }, BulletList = { { "content", "LB" } },
	OrderedList = { { "content", "LB" } }, LineBlock = { { "content", "LI" } },
	DefinitionList = { { "content", "DL" } },
	Figure = { { "caption", "CAP" }, { "content", "B" } },
	Table = { { "caption", "CAP" }, { "head", "TH" }, { "bodies", "TB" },
	    { "foot", "TH" } },
	Pandoc = { { "blocks", "B" } },
}

local Attr = {}
mt.Attr = Attr
Attr.__name = "Attr"
local ATTR_ALIAS = { identifier = true, classes = true, attributes = true }
Attr.__index = function(t, k)
	if k == "clone" then
		return function(a)
			local r = {}
			for kk, v in pairs(a.attributes or {}) do r[kk] = v end
			return pandoc.Attr(a.identifier, mklist(
			    List.clone(a.classes or {})), r)
		end
	end
	if k == 1 then return rawget(t, "identifier") end
	if k == 2 then return rawget(t, "classes") end
	if k == 3 then return rawget(t, "attributes") end
	return nil
end

local function mkattr(id, classes, attributes)
	if type(id) == "table" and getmetatable(id) == Attr then
		return id
	end
	if type(id) == "table" then
		-- HTML-like table: {id=, class=, key=value}
		local t = id
		id, classes, attributes = "", mklist(), {}
		for k, v in pairs(t) do
			if k == "id" then id = tostring(v)
			elseif k == "class" then
				for w in tostring(v):gmatch("%S+") do
					classes[#classes + 1] = w
				end
			elseif type(k) == "string" then attributes[k] = tostring(v)
			end
		end
	end
	local attrs = {}
	if type(attributes) == "table" then
		for k, v in pairs(attributes) do
			if type(k) == "number" and type(v) == "table" then
				attrs[tostring(v[1])] = tostring(v[2])
			else
				attrs[tostring(k)] = tostring(v)
			end
		end
	end
	local cl = mklist()
	if type(classes) == "string" then classes = { classes } end
	for i, c in ipairs(classes or {}) do cl[i] = tostring(c) end
	return setmetatable({ identifier = id and tostring(id) or "",
	    classes = cl, attributes = attrs }, Attr)
end
pandoc.Attr = mkattr
pandoc.AttributeList = function(t) return mkattr("", {}, t).attributes end

local Element = {}
local LIST_ATTR_ALIAS = { start = true, style = true, delimiter = true }

local function deepclone(x, seen)
	if type(x) ~= "table" then return x end
	local r = {}
	for k, v in pairs(x) do r[k] = deepclone(v) end
	return setmetatable(r, getmetatable(x))
end

function Element.clone(el) return deepclone(el) end
function Element.show(el) return el.tag end

local walk_element -- defined below
local DIRTY = false	-- see _TEBIKI.fast_walk

for t in pairs(INLINE) do mt[t] = true end
for t in pairs(BLOCK) do mt[t] = true end
mt.Pandoc = true
mt.Row = true
mt.Cell = true
for tag in pairs(mt) do
	if mt[tag] == true then
		local m = { __name = tag }
		m.__index = function(el, k)
			if k == "t" then return rawget(el, "tag") end
			if ATTR_ALIAS[k] then
				local a = rawget(el, "attr")
				return a and a[k]
			end
			if LIST_ATTR_ALIAS[k] then
				local la = rawget(el, "listAttributes")
				return la and la[k]
			end
			if k == "content" and tag == "Image" then
				return rawget(el, "caption")
			end
			if k == "walk" then return walk_element end
			return Element[k]
		end
		m.__newindex = function(el, k, v)
			if ATTR_ALIAS[k] and tag ~= "Pandoc" then
				local a = rawget(el, "attr")
				if not a then a = mkattr() rawset(el, "attr", a) end
				if k == "classes" then v = mklist(v) end
				a[k] = v
			elseif LIST_ATTR_ALIAS[k] and tag == "OrderedList" then
				rawget(el, "listAttributes")[k] = v
			elseif k == "content" and tag == "Image" then
				rawset(el, "caption", v)
			elseif k == "t" or k == "tag" then
				error("cannot change the tag of an element", 2)
			else
				rawset(el, k, v)
			end
			DIRTY = true
		end
		m.__eq = function(a, b)
			return pandoc.utils.equals(a, b)
		end
		mt[tag] = m
	end
end

local function mk(tag, t)
	t.tag = tag
	return setmetatable(t, mt[tag])
end
_TEBIKI.mk = mk

local function is_el(x)
	return type(x) == "table" and type(rawget(x, "tag")) == "string" and
	    getmetatable(x) == mt[rawget(x, "tag")]
end

-- text -> Str/Space/SoftBreak list (split on whitespace like pandoc)
local function text_inlines(s)
	local r = mklist()
	s = tostring(s)
	local i, n = 1, #s
	while i <= n do
		local ws, we = s:find("^[ \t\r\n]+", i)
		if ws then
			local run = s:sub(ws, we)
			if run:find("\n") then r[#r + 1] = mk("SoftBreak", {})
			else r[#r + 1] = mk("Space", {}) end
			i = we + 1
		else
			local e = s:find("[ \t\r\n]", i) or n + 1
			r[#r + 1] = mk("Str", { text = s:sub(i, e - 1) })
			i = e
		end
	end
	return r
end

local function inlines(x)
	if x == nil then return mklist() end
	if type(x) == "string" or type(x) == "number" then
		return text_inlines(x)
	end
	if is_el(x) then return mklist{ x } end
	local r = mklist()
	for _, v in ipairs(x) do
		if type(v) == "string" then r:extend(text_inlines(v))
		else r[#r + 1] = v end
	end
	return r
end

local function blocks(x)
	if x == nil then return mklist() end
	if type(x) == "string" then return mklist{ mk("Plain", { content = text_inlines(x) }) } end
	if is_el(x) then
		if INLINE[x.tag] then return mklist{ mk("Plain", { content = mklist{ x } }) } end
		return mklist{ x }
	end
	local r, run = mklist(), nil
	for _, v in ipairs(x) do
		if type(v) == "string" or (is_el(v) and INLINE[v.tag]) then
			if not run then run = mklist() r[#r + 1] = mk("Plain", { content = run }) end
			run:extend(inlines(v))
		else
			run = nil
			r[#r + 1] = v
		end
	end
	return r
end
pandoc.Inlines, pandoc.Blocks = inlines, blocks

-- inline constructors
function pandoc.Str(s) return mk("Str", { text = tostring(s) }) end
function pandoc.Space() return mk("Space", {}) end
function pandoc.SoftBreak() return mk("SoftBreak", {}) end
function pandoc.LineBreak() return mk("LineBreak", {}) end
for _, t in ipairs{ "Emph", "Strong", "Strikeout", "Underline",
    "Superscript", "Subscript", "SmallCaps" } do
	pandoc[t] = function(c) return mk(t, { content = inlines(c) }) end
end
function pandoc.Quoted(qt, c)
	return mk("Quoted", { quotetype = qt, content = inlines(c) })
end
pandoc.SingleQuote, pandoc.DoubleQuote = "SingleQuote", "DoubleQuote"
function pandoc.Code(text, attr)
	return mk("Code", { text = tostring(text), attr = mkattr(attr) })
end
function pandoc.Link(c, target, title, attr)
	return mk("Link", { content = inlines(c), target = tostring(target),
	    title = title and tostring(title) or "", attr = mkattr(attr) })
end
function pandoc.Image(c, src, title, attr)
	return mk("Image", { caption = inlines(c), src = tostring(src),
	    title = title and tostring(title) or "", attr = mkattr(attr) })
end
function pandoc.RawInline(f, text)
	return mk("RawInline", { format = tostring(f), text = tostring(text) })
end
function pandoc.Note(b) return mk("Note", { content = blocks(b) }) end
function pandoc.Span(c, attr)
	return mk("Span", { content = inlines(c), attr = mkattr(attr) })
end
function pandoc.Math(mt_, text)
	return mk("Math", { mathtype = mt_, text = tostring(text) })
end
pandoc.InlineMath, pandoc.DisplayMath = "InlineMath", "DisplayMath"
function pandoc.Cite(c, citations)
	return mk("Cite", { content = inlines(c), citations = mklist(citations) })
end

-- block constructors
function pandoc.Para(c) return mk("Para", { content = inlines(c) }) end
function pandoc.Plain(c) return mk("Plain", { content = inlines(c) }) end
function pandoc.Header(level, c, attr)
	return mk("Header", { level = math.tointeger(level) or 1,
	    content = inlines(c), attr = mkattr(attr) })
end
function pandoc.CodeBlock(text, attr)
	return mk("CodeBlock", { text = tostring(text), attr = mkattr(attr) })
end
function pandoc.RawBlock(f, text)
	return mk("RawBlock", { format = tostring(f), text = tostring(text) })
end
function pandoc.BlockQuote(b) return mk("BlockQuote", { content = blocks(b) }) end
function pandoc.Div(b, attr)
	return mk("Div", { content = blocks(b), attr = mkattr(attr) })
end
function pandoc.HorizontalRule() return mk("HorizontalRule", {}) end
local function items(x)
	local r = mklist()
	for i, it in ipairs(x or {}) do r[i] = blocks(it) end
	return r
end
function pandoc.BulletList(x) return mk("BulletList", { content = items(x) }) end
function pandoc.ListAttributes(start, style, delim)
	return { start = start or 1, style = style or "DefaultStyle",
	    delimiter = delim or "DefaultDelim" }
end
function pandoc.OrderedList(x, la)
	if type(la) == "number" then la = pandoc.ListAttributes(la) end
	la = la or pandoc.ListAttributes()
	return mk("OrderedList", { content = items(x),
	    listAttributes = pandoc.ListAttributes(la.start or la[1],
	    la.style or la[2], la.delimiter or la[3]) })
end
function pandoc.LineBlock(lines)
	local r = mklist()
	for i, l in ipairs(lines or {}) do r[i] = inlines(l) end
	return mk("LineBlock", { content = r })
end
function pandoc.DefinitionList(x)
	local r = mklist()
	for i, it in ipairs(x or {}) do
		r[i] = { inlines(it[1]), items(it[2]) }
	end
	return mk("DefinitionList", { content = r })
end
local function caption(c)
	if c == nil then return { long = mklist() } end
	if type(c) == "table" and (c.long or c.short) then
		return { long = blocks(c.long), short = c.short and inlines(c.short) }
	end
	return { long = blocks(c) }
end
pandoc.Caption = function(long, short)
	return { long = blocks(long), short = short and inlines(short) }
end
function pandoc.Figure(c, cap, attr)
	return mk("Figure", { content = blocks(c), caption = caption(cap),
	    attr = mkattr(attr) })
end
function pandoc.Cell(b, align, rs, cs, attr)
	return mk("Cell", { contents = blocks(b), alignment = align or "AlignDefault",
	    row_span = rs or 1, col_span = cs or 1, attr = mkattr(attr) })
end
function pandoc.Row(cells, attr)
	return mk("Row", { cells = mklist(cells), attr = mkattr(attr) })
end
function pandoc.TableHead(rows, attr)
	return { rows = mklist(rows), attr = mkattr(attr) }
end
pandoc.TableFoot = pandoc.TableHead
function pandoc.TableBody(body, head, rhc, attr)
	return { body = mklist(body), head = mklist(head),
	    row_head_columns = rhc or 0, attr = mkattr(attr) }
end
function pandoc.Table(cap, colspecs, head, bodies, foot, attr)
	return mk("Table", { caption = caption(cap), colspecs = mklist(colspecs),
	    head = head or pandoc.TableHead(), bodies = mklist(bodies),
	    foot = foot or pandoc.TableFoot(), attr = mkattr(attr) })
end
for _, a in ipairs{ "AlignLeft", "AlignRight", "AlignCenter", "AlignDefault" } do
	pandoc[a] = a
end
function pandoc.Meta(t) return t or {} end
function pandoc.MetaString(s) return tostring(s) end
function pandoc.MetaBool(b) return not not b end
function pandoc.MetaList(l) return mklist(l) end
function pandoc.MetaMap(m) return m end
function pandoc.MetaInlines(i) return inlines(i) end
function pandoc.MetaBlocks(b) return blocks(b) end
function pandoc.Pandoc(b, meta)
	return mk("Pandoc", { blocks = blocks(b), meta = meta or {} })
end

---------------------------------------------------------------- traversal
local CHANGED = false

local function class_of(el)
	local t = type(el) == "table" and rawget(el, "tag")
	if INLINE[t] then return "Inline" end
	if BLOCK[t] then return "Block" end
	return nil
end

-- normalises a callback result into a list of elements of class `cls`
local function splice_result(r, cls, fname, f)
	local what = cls == "Inline" and
	    "Inline, list of Inlines, or string expected" or
	    "Block, list of Blocks, or string expected"
	if f and _TEBIKI.where then
		-- "filters/x.lua:12: Para returned ..." (where f is defined)
		fname = _TEBIKI.where(f) .. ": " .. fname
	end
	if type(r) == "string" then
		if cls == "Inline" then return text_inlines(r) end
		return blocks(r)
	end
	if type(r) ~= "table" then
		error(fname .. " returned a " .. type(r) .. ": " .. what, 0)
	end
	if rawget(r, "tag") ~= nil then
		if class_of(r) ~= cls then
			error(fname .. " returned a " .. tostring(r.tag) .. ": " .. what, 0)
		end
		return { r }
	end
	local out = {}
	for _, v in ipairs(r) do
		if type(v) == "string" and cls == "Inline" then
			for _, x in ipairs(text_inlines(v)) do out[#out + 1] = x end
		elseif class_of(v) == cls then
			out[#out + 1] = v
		elseif cls == "Block" and class_of(v) == "Inline" then
			out[#out + 1] = mk("Plain", { content = mklist{ v } })
		else
			error(fname .. " returned a list containing a " ..
			    (type(v) == "table" and tostring(v.tag) or type(v)) ..
			    ": " .. what, 0)
		end
	end
	return out
end

local walk_list

-- applies `visit(list, kind, arg)` to every child list of `el` (arg is
-- passed through, so that walkers need no closure per element)
local function each_child(el, visit, arg)
	local kids = KIDS[rawget(el, "tag")]
	if not kids then return end
	for ki = 1, #kids do
		local fk = kids[ki]
		local f, kind = fk[1], fk[2]
		local v = rawget(el, f)
		if v ~= nil then
			if kind == "I" or kind == "B" then
				rawset(el, f, visit(v, kind, arg))
			elseif kind == "LB" or kind == "LI" then
				local sub = kind == "LB" and "B" or "I"
				for i = 1, #v do
					local old = v[i]
					local new = visit(old, sub, arg)
					if new ~= old then
						for k2, x in pairs(old) do
							if type(k2) == "string" then new[k2] = x end
						end
					end
					v[i] = new
				end
			elseif kind == "DL" then
				for _, it in ipairs(v) do
					it[1] = visit(it[1], "I", arg)
					local defs = it[2] or {}
					for i = 1, #defs do defs[i] = visit(defs[i], "B", arg) end
				end
			elseif kind == "CAP" then
				if v.long then v.long = visit(v.long, "B", arg) end
				if v.short then v.short = visit(v.short, "I", arg) end
			elseif kind == "TH" or kind == "TB" then
				local function rows(rs)
					for _, row in ipairs(rs or {}) do
						for _, cell in ipairs(row.cells or {}) do
							cell.contents = visit(cell.contents or mklist(), "B", arg)
						end
					end
				end
				if kind == "TH" then rows(v.rows)
				else
					for _, body in ipairs(v) do
						rows(body.head)
						rows(body.body)
					end
				end
			end
		end
	end
end

-- the elements list[1 .. i-1] as a new array, nils dropped: the start of
-- a walker's output once an element of the list has been replaced
local function head_of(list, i)
	local out = {}
	for j = 1, i - 1 do
		local x = list[j]
		if x ~= nil then out[#out + 1] = x end
	end
	return out
end

-- typewise pass: fns = element functions of class `cls`, lfn = the
-- Inlines/Blocks function (one of them is nil)
local walk_tw
walk_tw = function(list, kind, p)
	local cls = kind == "I" and "Inline" or "Block"
	local fns = p.cls == cls and p.fns
	local out = nil		-- made when the first element is replaced
	for i = 1, #list do
		local el = list[i]
		local f = nil
		if type(el) == "table" then
			local ln = rawget(el, "_line")
			if ln then _TEBIKI.line = ln end
			each_child(el, walk_tw, p)
			if ln then _TEBIKI.line = ln end
			if fns then
				local tag = rawget(el, "tag")
				f = fns[tag] or fns[cls]
			end
		end
		local r = nil
		if f then r = f(el) end
		if r ~= nil then
			CHANGED = true
			if not out then out = head_of(list, i) end
			local items_ = splice_result(r, cls, rawget(el, "tag"), f)
			for j = 1, #items_ do out[#out + 1] = items_[j] end
		elseif out then
			if el ~= nil then out[#out + 1] = el end
		end
	end
	local res = list
	if out then
		for k, v in pairs(list) do
			if type(k) == "string" then out[k] = v end
		end
		res = mklist(out)
	end
	if p.cls == cls and p.lfn then
		local r = p.lfn(getmetatable(res) == List and res or mklist(res))
		if r ~= nil then
			if type(r) ~= "table" or rawget(r, "tag") then
				error((cls == "Inline" and "Inlines" or "Blocks") ..
				    " must return a list or nil", 0)
			end
			CHANGED = true
			res = mklist(splice_result(r, cls, cls .. "s", p.lfn))
		end
	end
	return res
end

-- F.skip as a set: a filter lists element names there to have them
-- passed over (kept as they are, their content not walked, no function
-- called), which the C walker can do without converting them to Lua
local function skipset(F)
	local sk = rawget(F, "skip")
	if sk == nil then return nil end
	if type(sk) ~= "table" then
		error("'skip' must be a list of element names", 0)
	end
	if sk[1] == nil then return sk end
	local set = {}
	for _, name in ipairs(sk) do
		if type(name) ~= "string" or not (INLINE[name] or BLOCK[name]) then
			error("'skip': unknown element '" .. tostring(name) .. "'", 0)
		end
		set[name] = true
	end
	rawset(F, "skip", set)
	return set
end

-- the element loop of a topdown pass: `call(f, el)` runs an element
-- function, `walk` descends into the children of what is kept
local function td_elements(list, cls, F, call, walk)
	local out = nil		-- made when the first element is replaced
	local skip = skipset(F)
	for i = 1, #list do
		local el = list[i]
		local f = nil
		local passed = false
		if type(el) == "table" then
			local ln = rawget(el, "_line")
			if ln then _TEBIKI.line = ln end
			local tag = rawget(el, "tag")
			if skip and skip[tag] then passed = true
			else f = F[tag] or F[cls] end
		end
		local r, stop = nil, nil
		if f then r, stop = call(f, el) end
		if passed then stop = false end
		if r ~= nil then
			CHANGED = true
			if not out then out = head_of(list, i) end
			local items_ = splice_result(r, cls, rawget(el, "tag"), f)
			for j = 1, #items_ do
				local x = items_[j]
				if stop ~= false and type(x) == "table" then
					each_child(x, walk, F)
				end
				out[#out + 1] = x
			end
		else
			if stop ~= false and type(el) == "table" then
				each_child(el, walk, F)
			end
			if out and el ~= nil then out[#out + 1] = el end
		end
	end
	if out then
		for k, v in pairs(list) do
			if type(k) == "string" then out[k] = v end
		end
		return mklist(out)
	end
	return list
end

local function plain_call(f, el) return f(el) end

-- topdown pass over a list
local walk_td
walk_td = function(list, kind, F)
	local cls, lname
	if kind == "I" then cls, lname = "Inline", "Inlines"
	else cls, lname = "Block", "Blocks" end
	local lfn = F[lname]
	if lfn then
		local r, stop = lfn(list)
		if r ~= nil then
			CHANGED = true
			list = mklist(splice_result(r, cls, lname, lfn))
		end
		if stop == false then return list end
	end
	return td_elements(list, cls, F, plain_call, walk_td)
end

local ELEMENT_KEYS = { Inline = true, Block = true, Inlines = true,
    Blocks = true, Meta = true, Pandoc = true }

local function split_fns(F)
	local ifns, bfns = nil, nil
	for k, v in pairs(F) do
		if INLINE[k] or k == "Inline" then ifns = ifns or {} ifns[k] = v end
		if BLOCK[k] or k == "Block" then bfns = bfns or {} bfns[k] = v end
	end
	return ifns, bfns
end

-- applies filter F to doc (a Pandoc); returns the new doc
local function apply(F, doc)
	if F.traverse == "topdown" then
		if F.Pandoc then
			local r, stop = F.Pandoc(doc)
			if r ~= nil then CHANGED = true doc = r end
			if stop == false then return doc end
		end
		if F.Meta then
			local r = F.Meta(doc.meta)
			if r ~= nil then doc.meta = r end
		end
		rawset(doc, "blocks", walk_td(doc.blocks, "B", F))
		return doc
	end
	local ifns, bfns = split_fns(F)
	local function pass(p)
		rawset(doc, "blocks", walk_tw(doc.blocks, "B", p))
	end
	if ifns then pass{ cls = "Inline", fns = ifns } end
	if F.Inlines then pass{ cls = "Inline", lfn = F.Inlines } end
	if bfns then pass{ cls = "Block", fns = bfns } end
	if F.Blocks then pass{ cls = "Block", lfn = F.Blocks } end
	if F.Meta then
		local r = F.Meta(doc.meta)
		if r ~= nil then doc.meta = r end
	end
	if F.Pandoc then
		local r = F.Pandoc(doc)
		if r ~= nil then
			if rawget(r, "tag") ~= "Pandoc" then
				error("Pandoc must return a Pandoc element or nil", 0)
			end
			CHANGED = true
			doc = r
		end
	end
	return doc
end

walk_element = function(el, F)
	local old = CHANGED
	if rawget(el, "tag") == "Pandoc" then
		el = apply(F, el)
	else
		local wrap = mk("Pandoc", { blocks = mklist(), meta = {} })
		local cls = class_of(el)
		if cls == "Block" then
			wrap.blocks = mklist{ el }
		elseif cls == "Inline" then
			wrap.blocks = mklist{ mk("Plain", { content = mklist{ el } }) }
		end
		-- walk only the children of el, not el itself
		if F.traverse == "topdown" then
			each_child(el, walk_td, F)
		else
			local ifns, bfns = split_fns(F)
			local function pass(p)
				each_child(el, walk_tw, p)
			end
			if ifns then pass{ cls = "Inline", fns = ifns } end
			if F.Inlines then pass{ cls = "Inline", lfn = F.Inlines } end
			if bfns then pass{ cls = "Block", fns = bfns } end
			if F.Blocks then pass{ cls = "Block", lfn = F.Blocks } end
		end
	end
	CHANGED = old or CHANGED
	return el
end

function List:walk(F)
	-- guess the kind from the first element
	local kind = class_of(self[1]) == "Block" and "B" or "I"
	if F.traverse == "topdown" then return walk_td(self, kind, F) end
	local ifns, bfns = split_fns(F)
	local r = self
	if ifns then r = walk_tw(r, kind, { cls = "Inline", fns = ifns }) end
	if F.Inlines then r = walk_tw(r, kind, { cls = "Inline", lfn = F.Inlines }) end
	if bfns then r = walk_tw(r, kind, { cls = "Block", fns = bfns }) end
	if F.Blocks then r = walk_tw(r, kind, { cls = "Block", lfn = F.Blocks }) end
	return r
end

-- runs every filter of a file on doc; returns doc, changed
function _TEBIKI.run(filters, doc)
	CHANGED = false
	for _, F in ipairs(filters) do
		doc = apply(F, doc)
		if type(doc) ~= "table" or rawget(doc, "tag") ~= "Pandoc" then
			error("filter did not return a Pandoc document", 0)
		end
	end
	return doc, CHANGED
end

-- The C walker (luawalk.c) walks the cmark tree itself when a file has a
-- single topdown filter made only of element functions; it hands to Lua
-- only the parts that have functions, through these.
-- fast_filter(filters): that filter, or nil when the file does not qualify
function _TEBIKI.fast_filter(filters)
	if #filters ~= 1 then return nil end
	local F = filters[1]
	if type(F) ~= "table" or getmetatable(F) ~= nil or
	    rawget(F, "traverse") ~= "topdown" then
		return nil
	end
	for k, v in next, F do
		if ELEMENT_KEYS[k] then return nil end
		if (INLINE[k] or BLOCK[k]) and type(v) ~= "function" then
			return nil
		end
	end
	return F
end

-- The C walker rebuilds a part of the page only when it is "dirty": a
-- function returned something other than the element it got, or changed
-- the element (or anything inside it) in place (Str, Space and breaks: their
-- fields are compared; others: against a deep snapshot; a new field on
-- any element sets DIRTY in its __newindex).  Parts where functions
-- returned nil or their own unchanged element convert back to the same
-- tree, so they are kept as they are.
local LEAF = { Str = true, Space = true, SoftBreak = true, LineBreak = true }
local SNAP = {}		-- marks snapshot tables
local FAR = { [0] = {} }	-- a snapshot that equals nothing (too deep)

local function nkeys(t)
	local n = 0
	for _ in next, t do n = n + 1 end
	return n
end

-- deep snapshot of x: {[0] = SNAP, metatable, fields, number of fields}
local function snap(x, d)
	if type(x) ~= "table" or raw_of(x) then return x end	-- proxies: as is
	if d > 100 then return FAR end
	local f, n = {}, 0
	for k, v in next, x do
		f[k] = snap(v, d + 1)
		n = n + 1
	end
	return { [0] = SNAP, getmetatable(x), f, n }
end

-- true when x is still what snapshot s recorded
local function same(x, s, d)
	if type(x) ~= "table" or raw_of(x) then return rawequal(x, s) end
	if type(s) ~= "table" or rawget(s, 0) ~= SNAP or d > 100 or
	    not rawequal(getmetatable(x), s[1]) then
		return false
	end
	local f, n = s[2], 0
	for k, v in next, x do
		n = n + 1
		if not same(v, rawget(f, k), d + 1) then return false end
	end
	return n == s[3]
end

-- an element function call with the dirty check around it
local function checked_call(f, el)
	local tag = rawget(el, "tag")
	local r, stop
	if LEAF[tag] then
		-- no nested tables: compare the fields; new fields go through
		-- __newindex, which sets DIRTY
		local t0, s0 = el.text, rawget(el, "_s")
		r, stop = f(el)
		if (r ~= nil and not rawequal(r, el)) or el.text ~= t0 or
		    rawget(el, "_s") ~= s0 or rawget(el, "tag") ~= tag then
			DIRTY = true
		end
	else
		local sn = snap(el, 0)
		r, stop = f(el)
		if (r ~= nil and not rawequal(r, el)) or
		    not same(el, sn, 0) then
			DIRTY = true
		end
	end
	return r, stop
end

-- walk_td with the dirty check around every function call
local walk_fast
walk_fast = function(list, kind, F)
	return td_elements(list, kind == "I" and "Inline" or "Block", F,
	    checked_call, walk_fast)
end

-- A text run for a filter whose functions can meet only its Str elements
-- and that has a str_pattern (a Str that does not match it is not shown
-- to the filter, docs/filters.md): each word that matches is walked alone,
-- in order, and the run's elements are made only when one of them
-- changed.  The result is the one of walking the whole run.  Returns the
-- new list and true, or nil and false.  `cand`, when given, lists the
-- only words that can match, as {start, end, ...} (luawalk.c found the
-- others lack a byte that every match has); they go to the function
-- without a pattern search of their own (pat false): the function
-- returns nil for a word that does not match, and does nothing else, as
-- str_pattern promises, so calling it is the same as not calling it, and
-- cheaper than searching a long word twice.  Without `cand`, every word
-- is tried.
local function try_word(text, s, e, F, pat, text_list, hits)
	local w = text:sub(s, e - 1)
	if not pat or w:find(pat) then
		DIRTY = false
		local r = walk_fast(text_list(w), "I", F)
		if DIRTY then
			hits = hits or {}
			hits[#hits + 1] = { s, e, r }
		end
	end
	return hits
end

function _TEBIKI.fast_text(text, F, cand)
	local pat, hits = F.str_pattern, nil
	local text_list = _TEBIKI.text_list
	if cand then
		for i = 1, #cand, 2 do
			hits = try_word(text, cand[i], cand[i + 1], F, false,
			    text_list, hits)
		end
	else
		for s, e in text:gmatch("()[^ \t]+()") do
			hits = try_word(text, s, e, F, pat, text_list, hits)
		end
	end
	if not hits then
		DIRTY = false
		return nil, false
	end
	local out, pos = mklist(), 1
	for _, h in ipairs(hits) do
		if h[1] > pos then
			local between = text_list(text:sub(pos, h[1] - 1))
			for i = 1, #between do out[#out + 1] = between[i] end
		end
		for i = 1, #h[3] do out[#out + 1] = h[3][i] end
		pos = h[2]
	end
	if pos <= #text then
		local rest = text_list(text:sub(pos))
		for i = 1, #rest do out[#out + 1] = rest[i] end
	end
	DIRTY = true
	return out, true
end

-- true when a Str made from `run` (split on spaces and tabs, as pages are)
-- would match the filter's str_pattern
function _TEBIKI.fast_match(run, pat)
	for w in run:gmatch("[^ \t]+") do
		if w:find(pat) then return true end
	end
	return false
end

function _TEBIKI.fast_begin() CHANGED = false end
-- whether a function returned something (the Lua walker rebuilds the page
-- then, in-place changes included; otherwise it keeps the page as it was)
function _TEBIKI.fast_changed() return CHANGED end

-- walks one part of the page topdown, as the Lua walker would; returns
-- the part and whether it is dirty
function _TEBIKI.fast_walk(list, kind, F)
	DIRTY = false
	local r = walk_fast(list, kind, F)
	return r, DIRTY
end

local HOOKS = { collect = true, link = true, template = true, finish = true,
	applies = true }
-- boolean settings that go with the hooks
local FLAGS = { page_local = true }

local function has_element_keys(t)
	for k, v in pairs(t) do
		if type(k) == "string" and (ELEMENT_KEYS[k] or INLINE[k] or BLOCK[k])
		    and type(v) == "function" then
			return true
		end
	end
	return false
end

-- interprets what a filter file returned (and its globals, pandoc style):
-- returns filters (list of tables), hooks (table)
function _TEBIKI.shape(ret, env)
	local filters, hooks = {}, {}
	if ret == nil then
		local F = {}
		for k, v in pairs(env) do
			if type(k) == "string" and (ELEMENT_KEYS[k] or INLINE[k] or BLOCK[k])
			    and type(v) == "function" then F[k] = v end
			if HOOKS[k] and type(v) == "function" then hooks[k] = v end
			if FLAGS[k] and type(v) == "boolean" then hooks[k] = v end
		end
		if type(rawget(env, "traverse")) == "string" then F.traverse = env.traverse end
		if next(F) then filters[1] = F end
		return filters, hooks
	end
	if type(ret) ~= "table" then
		error("a filter must return a table, a list of tables or nothing", 0)
	end
	for k, v in pairs(ret) do
		if HOOKS[k] then
			if type(v) ~= "function" then
				error("'" .. k .. "' must be a function", 0)
			end
			hooks[k] = v
		elseif FLAGS[k] then
			if type(v) ~= "boolean" then
				error("'" .. k .. "' must be true or false", 0)
			end
			hooks[k] = v
		end
	end
	if has_element_keys(ret) then
		local F = {}
		for k, v in pairs(ret) do
			if type(k) == "string" and not HOOKS[k] and not FLAGS[k] then
				F[k] = v
			end
		end
		filters[#filters + 1] = F
	end
	for _, F in ipairs(ret) do
		if type(F) ~= "table" then
			error("a filter list must contain tables", 0)
		end
		filters[#filters + 1] = F
	end
	for _, F in ipairs(filters) do
		if rawget(F, "skip") ~= nil and rawget(F, "traverse") ~= "topdown" then
			error("'skip' needs traverse = 'topdown'", 0)
		end
		skipset(F)
	end
	return filters, hooks
end

function _TEBIKI.has_elements(filters)
	for _, F in ipairs(filters) do
		if has_element_keys(F) then return true end
	end
	return false
end

---------------------------------------------------------------- utils
local utils = {}
pandoc.utils = utils

local function stringify(x, out)
	local t = type(x)
	if t == "string" then out[#out + 1] = x return end
	if t == "number" or t == "boolean" then out[#out + 1] = tostring(x) return end
	if t ~= "table" then return end
	local tag = rawget(x, "tag")
	if tag == "Str" or tag == "Code" or tag == "Math" then
		out[#out + 1] = x.text
	elseif tag == "Space" or tag == "SoftBreak" or tag == "LineBreak" then
		out[#out + 1] = " "
	elseif tag == "RawInline" or tag == "RawBlock" or tag == "Note" then
		return
	elseif tag == "CodeBlock" then
		out[#out + 1] = x.text
	elseif tag == "Quoted" then
		local q1, q2 = "\u{201C}", "\u{201D}"
		if x.quotetype == "SingleQuote" then q1, q2 = "\u{2018}", "\u{2019}" end
		out[#out + 1] = q1
		stringify(x.content, out)
		out[#out + 1] = q2
	elseif tag == "Pandoc" then
		stringify(x.blocks, out)
	elseif tag == "Image" then
		stringify(x.caption, out)
	elseif tag ~= nil then
		local kids = KIDS[tag]
		if kids then
			for _, fk in ipairs(kids) do stringify(rawget(x, fk[1]), out) end
		elseif tag == "Row" then
			for _, c in ipairs(x.cells) do stringify(c.contents, out) end
		end
	else
		local first = true
		for _, v in ipairs(x) do
			local isblock = class_of(v) == "Block"
			if isblock and not first then out[#out + 1] = "\n" end
			stringify(v, out)
			first = false
		end
		if #x == 0 then
			for _, k in ipairs{ "long", "rows", "body" } do
				if x[k] then stringify(x[k], out) end
			end
		end
	end
end
function utils.stringify(x)
	local out = {}
	stringify(x, out)
	return tconcat(out)
end
function utils.type(x)
	local t = type(x)
	if t ~= "table" then return t end
	local m = getmetatable(x)
	if m == List then return "List" end
	if m == Attr then return "Attr" end
	local tag = rawget(x, "tag")
	if tag and m == mt[tag] then
		if INLINE[tag] then return "Inline" end
		if BLOCK[tag] then return "Block" end
		return tag
	end
	return "table"
end
function utils.equals(a, b)
	if a == b then return true end
	if type(a) ~= "table" or type(b) ~= "table" then return false end
	for k, v in pairs(a) do
		if type(k) ~= "string" or k:sub(1, 1) ~= "_" then
			if not utils.equals(v, rawget(b, k)) then return false end
		end
	end
	for k in pairs(b) do
		if rawget(a, k) == nil and (type(k) ~= "string" or k:sub(1, 1) ~= "_") then
			return false
		end
	end
	return true
end
function utils.blocks_to_inlines(bs, sep)
	local r = mklist()
	for i, b in ipairs(bs) do
		if i > 1 then r:extend(sep or { mk("Space", {}) }) end
		if b.content and class_of(b.content[1]) ~= "Block" and
		    type(b.content) == "table" and (b.tag == "Para" or
		    b.tag == "Plain" or b.tag == "Header") then
			r:extend(b.content)
		else
			r:extend(text_inlines(utils.stringify(b)))
		end
	end
	return r
end

local Version = {}
Version.__index = Version
local function vparts(v)
	if type(v) == "table" then return v end
	local r = {}
	for n in tostring(v):gmatch("%d+") do r[#r + 1] = tonumber(n) end
	return r
end
local function vcmp(a, b)
	a, b = vparts(a), vparts(b)
	for i = 1, math.max(#a, #b) do
		local x, y = a[i] or 0, b[i] or 0
		if x ~= y then return x < y and -1 or 1 end
	end
	return 0
end
Version.__eq = function(a, b) return vcmp(a, b) == 0 end
Version.__lt = function(a, b) return vcmp(a, b) < 0 end
Version.__le = function(a, b) return vcmp(a, b) <= 0 end
Version.__tostring = function(v) return tconcat(v, ".") end
Version.__name = "Version"
function Version.must_be_at_least(v, min, msg)
	if vcmp(v, min) < 0 then
		error(msg or ("version " .. tostring(min) .. " or later required"), 2)
	end
end
function utils.Version(v) return setmetatable(vparts(v), Version) end
pandoc.types = { Version = utils.Version }


---------------------------------------------------------------- site
-- read-only proxies: reads go to the wrapped table (nested tables are
-- wrapped too), writes raise an error.  A proxy keeps its table under the
-- private key RAWK, and a wrapped table keeps its proxy under PROXK, so
-- that reading SITE.pages[i] on every page writes to the small page table
-- and not to a table of all proxies: an old table written on every page
-- is traversed whole by every minor collection.  One metatable for all.
local LAZY_SITE_MT	-- below: a site whose indexes are not made yet
local fill = _TEBIKI.fill	-- lazy tables (luaast.h); set by the C side

local freeze
local FROZEN_MT = {
	__index = function(p, k)
		local v = rawget(p, RAWK)[k]
		if type(v) == "table" then return freeze(v) end
		return v
	end,
	__newindex = function(_, k)
		error("attempt to modify read-only value '" ..
		    tostring(k) .. "' (the site is frozen after link)", 2)
	end,
	__len = function(p) return #rawget(p, RAWK) end,
	__pairs = function(p)
		local t = rawget(p, RAWK)
		if fill then fill(t) end
		if getmetatable(t) == LAZY_SITE_MT then local _ = t.by_id end
		return function(_, k)
			local nk, nv = next(t, k)
			while nk == PROXK do nk, nv = next(t, nk) end
			if type(nv) == "table" then nv = freeze(nv) end
			return nk, nv
		end, p, nil
	end,
	__metatable = "read-only",
}
freeze = function(t)
	if type(t) ~= "table" or rawget(t, RAWK) then return t end
	local p = rawget(t, PROXK)
	if p then return p end
	p = setmetatable({ [RAWK] = t }, FROZEN_MT)
	rawset(t, PROXK, p)
	return p
end
_TEBIKI.freeze = freeze

-- next() for filters: a read-only proxy is empty to the raw next, so
-- next(PAGE.meta) would say "empty"; this one reads what the proxy wraps
-- (and fills a lazy table first)
function _TEBIKI.next(t, k)
	local r = raw_of(t)
	if r then
		if fill then fill(r) end
		local nk, nv = next(r, k)
		while nk == PROXK do nk, nv = next(r, nk) end
		if type(nv) == "table" then nv = freeze(nv) end
		return nk, nv
	end
	if fill then fill(t) end
	return next(t, k)
end


local raw_rawset = rawset
function _TEBIKI.rawset(t, k, v)
	if raw_of(t) then error("attempt to modify a read-only table", 2) end
	return raw_rawset(t, k, v)
end

-- deep plain copy (proxies unwrapped, functions dropped, cycles refused)
local function plain(v, seen)
	if type(v) == "function" or type(v) == "userdata" or
	    type(v) == "thread" then return nil end
	if type(v) ~= "table" then return v end
	v = raw_of(v) or v
	seen = seen or {}
	if seen[v] then error("cannot store a table that contains itself", 0) end
	seen[v] = true
	local r = {}
	for k, x in pairs(v) do
		if type(k) == "string" or type(k) == "number" then
			r[k] = plain(x, seen)
		end
	end
	seen[v] = nil
	return r
end
_TEBIKI.plain = plain

-- the indexes by_id, by_type, by_path of a site's pages
local function index_pages(site)
	local by_id, by_type, by_path = {}, {}, {}
	for _, p in ipairs(site.pages) do
		if p.id then by_id[p.id] = p end
		if p.path then by_path[p.path] = p end
		local l = by_type[p.type]
		if not l then l = mklist() by_type[p.type] = l end
		l[#l + 1] = p
	end
	rawset(site, "by_id", by_id)
	rawset(site, "by_type", by_type)
	rawset(site, "by_path", by_path)
end

-- a site whose indexes are made when first read
local INDEXED = { by_id = true, by_type = true, by_path = true }
LAZY_SITE_MT = {
	__index = function(site, k)
		if not INDEXED[k] then return nil end
		setmetatable(site, nil)
		index_pages(site)
		return rawget(site, k)
	end,
}

-- builds the site table from its plain parts.  `prepared`: the pages come
-- from tebiki with type, kind, meta and data set, and stay as they are
-- until a filter reads them (the indexes too): a big site costs a worker
-- little when its filters only look at PAGE and a few others.
function _TEBIKI.make_site(v, prepared)
	local site = {}
	for k, x in pairs(v) do
		if k ~= "pages" then site[k] = x end
	end
	if prepared then
		-- a lazy list: PAGE reads one entry, not the whole list
		site.pages = v.pages or mklist()
		site.data = site.data or {}
		return setmetatable(site, LAZY_SITE_MT)
	end
	site.pages = mklist(v.pages or {})
	site.data = site.data or {}
	for _, p in ipairs(site.pages) do
		p.data = p.data or {}
		p.meta = p.meta or {}
		p.type = p.type or "page"
		p.kind = p.type
	end
	index_pages(site)
	return site
end

---------------------------------------------------------------- misc
_TEBIKI.text_inlines = text_inlines

-- sorted pairs: numbers first (ascending), then strings (bytewise)
function _TEBIKI.spairs(t)
	local keys = {}
	for k in pairs(t) do keys[#keys + 1] = k end
	tsort(keys, function(a, b)
		local ta, tb = type(a), type(b)
		if ta ~= tb then return ta < tb end
		if ta == "number" or ta == "string" then return a < b end
		return tostring(a) < tostring(b)
	end)
	local i = 0
	return function()
		i = i + 1
		local k = keys[i]
		if k ~= nil then return k, t[k] end
	end, t, nil
end

return pandoc
