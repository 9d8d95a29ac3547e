-- wrk script of benches/ratings_intake.sh: each request rates the next unrated case, B-0000000
-- onward, spread over the threads; 1 rating in 50 is a bad review (which opens a
-- rectification). KAOHE_TOKEN is the service system's token, KAOHE_THREADS wrk's -t.
local threads = tonumber(os.getenv("KAOHE_THREADS"))
local n = 0
tid = 0

function setup(thread)
  thread:set("id", tid)
  tid = tid + 1
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("KAOHE_TOKEN")

function request()
  local i = id + n * threads
  n = n + 1
  local level = 5
  if i % 50 == 0 then level = 2 end
  return wrk.format(nil, nil, nil,
    string.format('{"case_id":"B-%07d","level":%d,"channel":"online"}', i, level))
end
