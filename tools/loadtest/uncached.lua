-- Uncached path: every request carries a distinct 60-price window (prices in
-- 1800..2000), so no request is ever a cache hit.
--   wrk -t2 -c32 -d10s --latency -s uncached.lua http://127.0.0.1:8080
--
-- Uniqueness: request number u = counter*64 + thread id + run offset is
-- written in base 20000 into the first four prices as 1800 + digit*0.01.
-- Steps of 0.01 stay distinct after float32 rounding (float32 resolves ~1.2e-4
-- at 2000), so windows differ even if the server keys its cache on parsed
-- float32 values rather than on the body bytes. The run offset
-- (LOADTEST_RUN, default the clock) keeps separate runs from repeating each
-- other's windows. The other 56 prices are a seeded random walk.
package.path = package.path .. ";" .. (os.getenv("LOADTEST_LUA_DIR") or ".") .. "/?.lua"
local common = require("common")

local MAX_THREADS = 64
local nthreads = 0
local tid = 0
local counter = 0
local run = tonumber(os.getenv("LOADTEST_RUN") or "") or os.time()

function setup(thread)
  nthreads = nthreads + 1
  if nthreads > MAX_THREADS then
    error("uncached.lua: at most " .. MAX_THREADS .. " threads")
  end
  thread:set("tid", nthreads - 1)
end

function init(args)
  tid = tonumber(wrk.thread:get("tid")) or 0
  math.randomseed(run * MAX_THREADS + tid)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

local parts = {}

function request()
  -- u < 2^52: exact in a double and within four base-20000 digits (1.6e17);
  -- runs collide only if one thread sends > 2^26 requests.
  local u = counter * MAX_THREADS + tid + (run % 1048576) * 4294967296
  counter = counter + 1
  for i = 1, 4 do
    parts[i] = string.format("%.2f", 1800 + (u % 20000) * 0.01)
    u = math.floor(u / 20000)
  end
  local p = 1800 + 200 * math.random()
  for i = 5, 60 do
    p = p + 8 * (math.random() - 0.5)
    if p < 1800 then p = 3600 - p elseif p > 2000 then p = 4000 - p end
    parts[i] = string.format("%.2f", p)
  end
  return wrk.format(nil, common.path, nil, '{"historical_prices":[' .. table.concat(parts, ",") .. ']}')
end

done = common.done
