-- wrk script: sends the requests scripts/presign.py signed, one after another, each thread
-- its own share (docs/performance.md, "An independent generator").
-- Usage: wrk -t2 -c64 -d10s -s scripts/wrk-presigned.lua URL -- REQUESTS.jsonl THREADS [cycle]
-- (THREADS: the same number as -t: each thread sends every THREADS-th request.)
-- Without "cycle" each request is sent once, and a thread that has sent its share stops
-- (a Create Charge sent twice would replay its idempotency key, not write). wrk's rate is
-- over the whole duration, so a run whose "requests" equals the number signed ran out
-- early and its rate is too low: sign more.

local threads = {}

function setup(thread)
  thread:set("index", #threads)
  table.insert(threads, thread)
end

local function unescape(line)
  -- The lines are JSON strings of printable ASCII with \r, \n, \" and \\ escaped.
  local text = line:sub(2, -2)
  text = text:gsub("\\(.)", { r = "\r", n = "\n", ['"'] = '"', ["\\"] = "\\", ["/"] = "/" })
  return text
end

function init(args)
  local path, total, mode = args[1], tonumber(args[2] or "1"), args[3]
  cycle = mode == "cycle"
  requests = {}
  local count = wrk.thread:get("index") or 0
  local n = 0
  for line in io.lines(path) do
    if n % total == count then
      table.insert(requests, unescape(line))
    end
    n = n + 1
  end
  position = 0
end

function request()
  position = position + 1
  if position > #requests then
    if not cycle then
      wrk.thread:stop()
    end
    position = 1
  end
  return requests[position]
end
