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
--       refunds, released_gen, grace, settled, learnt, looks   ("" for none; learnt: the
--       generation the calling process was last told `early` in; refunds: units never sent, as
--       "gen units gen units ..."; settled: units answered or given up, as "gen reset units ...",
--       with the reset their answers reported, "-" for none; looks: looks never sent, as
--       refunds are: each goes back as if it had never been granted)
-- Returns: {code, granted, until, gen, look, early, end}
--   code 0: granted `granted` units of generation `gen` (`look` 1: the one look);
--   code 1: wait until `until`; code 2: ask again soon (at the latest `until`): a look is out,
--   or units carried may yet come back;
--   code 3: nothing asked for. `early` 1: a look went before the window was over (this
--   process's, or another's when this one takes the window to be over too). `end`: the
--   window's end, after which units granted now are no good ("" while looking).
--
-- Every argument is checked before anything is written: a call whose own arguments are unsound
-- (now, want, prefetch, look_timeout, grace) is refused with an error, and what a server said
-- that is unsound is ignored. A server may hold the budget MAX_WAIT seconds at most: a longer
-- hold is cut to that, a reset further away is not believed, and so the key, whose every write
-- sets its TTL, never lives much longer than MAX_WAIT and the grace period. What is stored is
-- checked the same way as it is read (a key an earlier version left, or another hand wrote).

local MAX_WAIT = 300
-- (seconds: intercom_async._protocol.MAX_SERVER_WAIT, which tests/test_budget_script.py checks)
local MAX_TIME = 253402300800 -- the year 10000: no time of ours is later
local MAX_COUNT = 9007199254740992 -- 2^53
local MAX_GRACE = 3600

-- `text` as a finite number from `low` to `high`, or nil.
local function number(text, low, high)
  local x = tonumber(text)
  if x == nil or x ~= x or x == math.huge or x == -math.huge or x < low or x > high then
    return nil
  end
  return x
end

-- `text` as a whole number from 0 to 2^53, or nil.
local function count(text)
  local x = number(text, 0, MAX_COUNT)
  if x == nil or x ~= math.floor(x) then return nil end
  return x
end

local key = KEYS[1]
local now = number(ARGV[1], 0, MAX_TIME)
local want = count(ARGV[2])
local prefetch = count(ARGV[3])
local look_timeout = number(ARGV[4], 0, MAX_WAIT)
local grace = number(ARGV[12], 0, MAX_GRACE)
if not (now and want and prefetch and look_timeout and look_timeout > 0 and grace) then
  return redis.error_reply('intercom-async budget: unsound arguments (now ' .. tostring(ARGV[1])
    .. ', want ' .. tostring(ARGV[2]) .. ', prefetch ' .. tostring(ARGV[3]) .. ', look_timeout '
    .. tostring(ARGV[4]) .. ', grace ' .. tostring(ARGV[12]) .. ')')
end
local horizon = now + MAX_WAIT -- nothing a server says holds the budget past this
local o_reset = number(ARGV[5], 0, horizon)
local o_limit = count(ARGV[6])
local o_remaining = count(ARGV[7])
local o_gen = count(ARGV[8])
local o_held = number(ARGV[9], -math.huge, math.huge)
if o_held then o_held = math.min(o_held, horizon) end
local refunds = ARGV[10]
local released_gen = count(ARGV[11])
local settled = ARGV[13]
local learnt = count(ARGV[14])
local looks = ARGV[15] or ''

local s = redis.call('HMGET', key, 'limit', 'newest', 'end', 'taken', 'gen', 'look', 'held',
  'bare', 'out', 'carry', 'cgen', 'fresh', 'cuntil', 'eg')
-- Times stored further away than a server may hold the budget (with room for the clocks of
-- the processes to differ) are not believed.
local function stored_time(text, high)
  local x = number(text, -math.huge, math.huge)
  if x == nil or x > now + 2 * MAX_WAIT then return nil end
  return math.min(x, high)
end
local limit = count(s[1])
local newest = stored_time(s[2], math.huge)
local wend = stored_time(s[3], math.huge)
if (s[2] and not newest) or (s[3] and not wend) then newest, wend = nil, nil end
local taken = count(s[4]) or 0
local gen = count(s[5]) or 0
local look = stored_time(s[6], now + look_timeout) or 0
local held = stored_time(s[7], horizon) or 0
local bare = count(s[8]) or 0
local out = count(s[9]) or 0
local carry = count(s[10]) or 0
local cgen = count(s[11]) or 0
local fresh = count(s[12]) or 0
local cuntil = stored_time(s[13], now + look_timeout) or 0
local eg = number(s[14], -1, MAX_COUNT) or -1
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
for g, n in string.gmatch(refunds, '(%d+) (%d+)') do
  g, n = count(g), count(n)
  if g and n then back(g, n, true) end
end
for g, n in string.gmatch(looks, '(%d+) (%d+)') do
  g, n = count(g), count(n)
  if g and n and g == gen and wend == nil then
    -- A look never sent, while its window is being looked for: another may go at once.
    out = math.max(out - n, 0)
    look = 0
  elseif g and n then
    back(g, n, true)
  end
end
for g, r, n in string.gmatch(settled, '(%d+) (%S+) (%d+)') do
  local reset = number(r, -math.huge, math.huge)
  g, n = count(g), count(n)
  if g and n then back(g, n, reset ~= nil and newest ~= nil and reset < newest) end
end
if released_gen == gen and wend == nil then
  look = 0
  if newest == nil then bare = 1 end
end
if o_reset then
  if o_limit then
    limit = o_limit
  elseif o_remaining and (limit == nil or o_remaining + 1 > limit) then
    -- No X-RateLimit-Limit: the window holds at least what remained after this answer's own
    -- request, and the most any answer showed is the best guess of its size.
    limit = o_remaining + 1
  end
  local counted = nil
  if limit and o_remaining then counted = math.max(limit - o_remaining, 0) end
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

-- Kept until the window is over, the holds are up, and a grace period more; MAX_WAIT and the
-- grace period at most (every time here is finite).
local last = math.max(now, wend or now, held, look)
local ttl = math.max(math.ceil((math.min(last - now, MAX_WAIT) + grace) * 1000), 1)
local fields = {'taken', taken, 'gen', gen, 'look', tostring(look), 'held', tostring(held),
  'bare', bare, 'out', out, 'carry', carry, 'cgen', cgen, 'fresh', fresh,
  'cuntil', tostring(cuntil), 'eg', eg}
local gone = {}
if limit then
  table.insert(fields, 'limit'); table.insert(fields, limit)
else
  table.insert(gone, 'limit')
end
if newest then
  table.insert(fields, 'newest'); table.insert(fields, string.format('%.3f', newest))
else
  table.insert(gone, 'newest')
end
if wend then
  table.insert(fields, 'end'); table.insert(fields, string.format('%.3f', wend))
else
  table.insert(gone, 'end')
end
if #gone > 0 then redis.call('HDEL', key, unpack(gone)) end
redis.call('HSET', key, unpack(fields))
redis.call('PEXPIRE', key, string.format('%d', ttl))
return {code, granted, tostring(till), gen, is_look, early, tostring(wend or '')}
