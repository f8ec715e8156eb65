-- wrk script of bench/intake.py: each thread sends its own planned sequence of submissions.
--
--   wrk -t T -c C -d <ceiling> -s bench/intake.lua URL -- PATH TOKEN PLAN_PREFIX
--
-- Thread i reads PLAN_PREFIX.i: one request a line, "idempotency key <TAB> JSON body", in the
-- order to send them (written by intake.py: the thread's disjoint slice of new keys, with
-- retries of earlier keys of the same thread mixed in). Each plan request carries its line
-- number in a Bench-Seq header, which the bench's server echoes (bench/intake_urls.py), so the
-- thread knows the latency of each line and when every line has been answered: it then prints
-- "thread-done", and intake.py interrupts wrk (SIGINT) once every thread is done; wrk calls
-- done(), which prints one "BENCH_JSON {...}" line. Past its plan, a thread resends the plan's
-- last lines (Bench-Seq: 0): retries, which create nothing, so the distinct keys sent are
-- exactly those of the plans; they load the server until the end but are not measured.
-- A thread does not stop itself (wrk.thread:stop()) and no connection is held back: either
-- would leave connections open without a request, and each blocks one of gunicorn's sync
-- workers (it waits for the request) until its timeout.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1 -- one clock for every thread of the process
local timespec = ffi.new("bench_timespec")

local function now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) * 1000000 + math.floor(tonumber(timespec.tv_nsec) / 1000)
end

local EXTRA_LINES = 16 -- resent past the plan, in turn
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local path, token, prefix = args[1], args[2], args[3]
  local lines = {}
  for line in io.lines(prefix .. "." .. id) do
    lines[#lines + 1] = line
  end
  -- Formatted once here: building requests in request() would load wrk's thread, not the app.
  local function format(line, seq)
    local tab = line:find("\t", 1, true)
    local headers = {
      ["Content-Type"] = "application/json",
      ["Authorization"] = "Bearer " .. token,
      ["Idempotency-Key"] = line:sub(1, tab - 1),
      ["Bench-Seq"] = tostring(seq),
    }
    return wrk.format("POST", path, headers, line:sub(tab + 1))
  end
  plan, extra = {}, {}
  for seq, line in ipairs(lines) do
    plan[seq] = format(line, seq)
  end
  planned = #plan
  for seq = math.max(1, planned - EXTRA_LINES + 1), planned do
    extra[#extra + 1] = format(lines[seq], 0)
  end
  sent, received, answered, beyond, replayed = 0, 0, 0, 0, 0
  sent_at, latencies = {}, {}
  started, finished = 0, 0
  -- wrk calls request() once in the first thread before the run, to check what it returns
  -- (script_verify_request): that call must not use up the first line.
  verifying = id == 0
  statuses = {}
  first_error = ""
end

function request()
  if verifying then
    verifying = false
    return plan[1]
  end
  sent = sent + 1
  if sent <= planned then
    -- the moment wrk starts its own latency clock for this request
    sent_at[sent] = now_us()
    if sent == 1 then
      started = sent_at[1]
    end
    return plan[sent]
  end
  beyond = beyond + 1
  return extra[1 + beyond % #extra]
end

function response(status, headers, body)
  received = received + 1
  local code = tostring(status)
  statuses[code] = (statuses[code] or 0) + 1
  if headers["Idempotent-Replayed"] == "true" then
    replayed = replayed + 1
  end
  if (status < 200 or status > 299) and first_error == "" then
    first_error = code .. " " .. body:sub(1, 600)
  end
  local seq = tonumber(headers["Bench-Seq"]) or 0
  if seq > 0 and sent_at[seq] and not latencies[seq] then
    latencies[seq] = now_us() - sent_at[seq]
    answered = answered + 1
    if answered == planned then
      finished = now_us()
      io.write("thread-done\n")
      io.flush()
    end
  end
end

local function quote(text)
  return '"' .. text:gsub('[%c"\\]', function(c)
    return string.format("\\u%04x", c:byte())
  end) .. '"'
end

function done(summary, _, _)
  local out = {}
  for _, thread in ipairs(threads) do
    local codes = {}
    for code, count in pairs(thread:get("statuses")) do
      codes[#codes + 1] = string.format("%s:%d", quote(code), count)
    end
    out[#out + 1] = string.format(
      '{"id":%d,"planned":%d,"sent":%d,"received":%d,"answered":%d,"beyond":%d,'
        .. '"replayed":%d,"started_us":%d,"finished_us":%d,"statuses":{%s},"first_error":%s,'
        .. '"latencies_us":[%s]}',
      thread:get("id"), thread:get("planned"), thread:get("sent"), thread:get("received"),
      thread:get("answered"), thread:get("beyond"), thread:get("replayed"),
      thread:get("started"), thread:get("finished"), table.concat(codes, ","),
      quote(thread:get("first_error")), table.concat(thread:get("latencies"), ",")
    )
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"threads":[%s],"requests":%d,'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
    table.concat(out, ","), summary.requests, e.connect, e.read, e.write, e.status, e.timeout
  ))
end
