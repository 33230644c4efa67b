-- RequestConsent with a new phone on every request (097 + run digit + 6-digit counter), so no
-- request duplicates one still waiting. bench/harness/wrk.py sets BENCH_RUN (a new digit per wrk
-- run) and BENCH_THREADS (wrk's -t), so threads and runs never reuse a phone.
local common = require("common")
common.post("")

local BODY = '{"oa_id":"1234567890123456789","phone":"097%d%06d",' ..
             '"call_type":"audio","reason_code":"update_order"}'
local run = (tonumber(os.getenv("BENCH_RUN") or "0") or 0) % 10
local threads = tonumber(os.getenv("BENCH_THREADS") or "1") or 1
local created = 0
local counter = 0
thread_id = 0  -- set per thread by setup()

function setup(thread)
  thread:set("thread_id", created)
  created = created + 1
end

function request()
  counter = counter + 1
  local n = (counter * threads + thread_id) % 1000000
  return wrk.format(nil, nil, nil, string.format(BODY, run, n))
end

done = common.done
