-- Cached path: the same 60-price window on every request, so after the first
-- miss every request is a cache hit.
--   wrk -t2 -c32 -d10s --latency -s cached.lua http://127.0.0.1:8080
package.path = package.path .. ";" .. (os.getenv("LOADTEST_LUA_DIR") or ".") .. "/?.lua"
local common = require("common")

local parts = {}
local p = 1900.0
for i = 1, 60 do
  parts[i] = string.format("%.2f", p)
  p = p * (1 + 0.004 * math.sin(i))
end
wrk.method = "POST"
wrk.path = common.path
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"historical_prices":[' .. table.concat(parts, ",") .. ']}'

done = common.done
