-- The shared rate-limit budget of one Intercom app, kept in one Redis hash (KEYS[1]) and changed
-- only by this script, which Redis runs atomically. Each call first applies what the calling
-- process has heard from Intercom since its last call, then, if it asks for units, grants what
-- the window has left.
--
-- Times are on Intercom's clock (the calling process's estimate of it), in seconds.
--
-- The hash:
--   limit   X-RateLimit-Limit, as last reported
--   newest  the newest X-RateLimit-Reset any answer reported
--   end     the reset of the window being paced against; absent once it is taken to be over
--           (or before any answer): then one request at a time goes to look
--   taken   units granted against the window (answered, in flight, or unused), raised to what
--           Intercom says it counted; a process that dies holding units leaks them only until
--           the window is over
--   gen     bumped each time the units start over (a new window, a look): a unit comes back
--           only to the generation it was granted in
--   out     units of this generation granted and not yet settled (answered, or never sent)
--   carry   units of older generations (cgen and after) still out when the units started over:
--           they may yet be counted in the new window (Intercom's window can turn before its
--           rounded X-RateLimit-Reset), so they are in `taken`, and leave it only when their
--           answer shows they were counted in an older window, or until `cuntil`: by then
--           each has reached Intercom, and what it counted is in the answers' Remaining. So a
--           process that dies holding units costs the next window that long at most
--   eg      the generation of a window that a look found still running past its reset: each
--           process that then takes it to be over is told so once (`early`), before it looks
--   fresh   1 while the carry is of a window taken to be over by the clock, and the new one is
--           not known yet (its first answer keeps the carry)
--   look    while looking: until when the look now out is given (a look lost with its process
--           is given up at that time)
--   held    nothing is granted before this (Retry-After, a 429 that says nothing)
--   bare    1 when looks get answers without rate-limit headers: nothing to pace against
--
-- ARGV: now, want, prefetch, look_timeout, reset, limit, remaining, reset_gen, held,
--       refunds, released_gen, grace, settled, learnt   ("" for none; learnt: the generation
--       the calling process was last told `early` in; refunds: units never sent, as
--       "gen units gen units ..."; settled: units answered or given up, as "gen reset units ...",
--       with the reset their answers reported, "-" for none)
-- Returns: {code, granted, until, gen, look, early, end}
--   code 0: granted `granted` units of generation `gen` (`look` 1: the one look);
--   code 1: wait until `until`; code 2: ask again soon (at the latest `until`): a look is out,
--   or units carried may yet come back;
--   code 3: nothing asked for. `early` 1: a look went before the window was over (this
--   process's, or another's when this one takes the window to be over too). `end`: the
--   window's end, after which units granted now are no good ("" while looking).

local key = KEYS[1]
local now = tonumber(ARGV[1])
local want = tonumber(ARGV[2])
local prefetch = tonumber(ARGV[3])
local look_timeout = tonumber(ARGV[4])
local o_reset = tonumber(ARGV[5])
local o_limit = tonumber(ARGV[6])
local o_remaining = tonumber(ARGV[7])
local o_gen = tonumber(ARGV[8])
local o_held = tonumber(ARGV[9])
local refunds = ARGV[10]
local released_gen = tonumber(ARGV[11])
local grace = tonumber(ARGV[12])
local settled = ARGV[13]
local learnt = tonumber(ARGV[14])

local s = redis.call('HMGET', key, 'limit', 'newest', 'end', 'taken', 'gen', 'look', 'held',
  'bare', 'out', 'carry', 'cgen', 'fresh', 'cuntil', 'eg')
local limit = tonumber(s[1])
local newest = tonumber(s[2])
local wend = tonumber(s[3])
local taken = tonumber(s[4]) or 0
local gen = tonumber(s[5]) or 0
local look = tonumber(s[6]) or 0
local held = tonumber(s[7]) or 0
local bare = tonumber(s[8]) or 0
local out = tonumber(s[9]) or 0
local carry = tonumber(s[10]) or 0
local cgen = tonumber(s[11]) or 0
local fresh = tonumber(s[12]) or 0
local cuntil = tonumber(s[13]) or 0
local eg = tonumber(s[14]) or -1
local early = 0

-- Units of generation g settled: `missed` when they were not counted in this window (never
-- sent, or counted in an older one).
local function back(g, n, missed)
  if g == gen then
    out = math.max(out - n, 0)
    if missed then taken = math.max(taken - n, 0) end
  elseif g < gen and g >= cgen then
    local d = math.min(carry, n)
    carry = carry - d
    if missed then taken = math.max(taken - d, 0) end
  end
end

-- The units start over (generation gen + 1): those still out are carried.
local function over()
  if fresh == 1 then
    carry = carry + out
  else
    carry, cgen = out, gen
  end
  gen = gen + 1
  out = 0
  fresh = 0
  cuntil = now + look_timeout
end

if carry > 0 and now >= cuntil then
  taken = math.max(taken - carry, 0)
  carry = 0
end

-- What the process heard.
if o_held and o_held > held then held = o_held end
for g, n in string.gmatch(refunds, '(%d+) (%d+)') do back(tonumber(g), tonumber(n), true) end
for g, r, n in string.gmatch(settled, '(%d+) (%S+) (%d+)') do
  local reset = tonumber(r)
  back(tonumber(g), tonumber(n), reset ~= nil and newest ~= nil and reset < newest)
end
if released_gen == gen and wend == nil then
  look = 0
  if newest == nil then bare = 1 end
end
if o_reset then
  if o_limit then limit = o_limit end
  local counted = nil
  if limit and o_remaining then counted = limit - o_remaining end
  if newest == nil or o_reset > newest then
    over()
    newest = o_reset
    wend = o_reset
    look = 0
    bare = 0
    taken = (counted or 0) + carry
  elseif o_reset == newest then
    if wend == nil then
      if o_gen == gen then
        -- A look went into this window, taken to be over, and Intercom still counts it.
        over()
        carry, fresh = 0, 0
        wend = newest
        look = 0
        early = 1
        eg = gen
        taken = counted or limit or 0
      end
    elseif counted and counted + carry > taken then
      taken = counted + carry
    end
  end
end

-- What it asks for.
local code, granted, till, is_look = 3, 0, 0, 0
if want > 0 then
  if held > now then
    code, till = 1, held
  elseif wend and now >= wend and eg == gen and learnt ~= gen then
    -- Another process's look found this window running past this time: learn, and ask again.
    code, till, early = 2, now, 1
  else
    if wend and now >= wend then
      over()
      fresh = 1
      wend = nil
      look = 0
      taken = carry
    end
    if wend == nil and bare == 0 then
      if look > now then
        code, till = 2, look
      else
        look = now + look_timeout
        out = out + 1
        code, granted, is_look = 0, 1, 1
      end
    elseif wend == nil or limit == nil then
      code, granted = 0, want
    else
      local budget = limit - taken
      if budget <= 0 and carry > 0 then
        code, till = 2, math.min(wend, cuntil)
      elseif budget <= 0 then
        code, till = 1, wend
      else
        granted = math.min(want, budget)
        if budget - granted >= 4 * prefetch then granted = granted + prefetch end
        taken = taken + granted
        out = out + granted
        code = 0
      end
    end
  end
end

-- Kept until the window is over, the holds are up, and a grace period more.
local last = math.max(now, wend or now, held, look)
local fields = {'taken', taken, 'gen', gen, 'look', tostring(look), 'held', tostring(held),
  'bare', bare, 'out', out, 'carry', carry, 'cgen', cgen, 'fresh', fresh,
  'cuntil', tostring(cuntil), 'eg', eg}
if limit then table.insert(fields, 'limit'); table.insert(fields, limit) end
if newest then table.insert(fields, 'newest'); table.insert(fields, string.format('%.3f', newest)) end
if wend then
  table.insert(fields, 'end'); table.insert(fields, string.format('%.3f', wend))
else
  redis.call('HDEL', key, 'end')
end
redis.call('HSET', key, unpack(fields))
redis.call('PEXPIRE', key, math.ceil((last - now + grace) * 1000))
return {code, granted, tostring(till), gen, is_look, early, tostring(wend or '')}
