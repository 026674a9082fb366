-- wrk script for the load test's submits (bench/load.py fills in the settings below).
-- One connection per wrk thread, so request() and response() alternate and each answer belongs to the
-- request before it. The counter moves on at each answer, not at each request(): wrk calls the first
-- thread's request() once before the run to inspect it, and that request is never sent.
-- A thread that has sent its quota does not stop: wrk would leave its next connection open and idle,
-- holding a sync gunicorn worker. It sends the minimal endpoint instead, until bench/load.py sees every
-- thread's marker and ends wrk; so latencies are taken here, for the submits only, not from wrk's totals. Each thread sends QUOTA letter forms, then stops itself. Request c of thread t is
-- person (t, c); every REPEAT_EVERY-th request is instead a repeat of the next thread's request c - 1
-- (often in flight at that moment), every other such repeat with the e-mail in upper case and spaces.
-- bench/load.py:person() computes the same people, so the checks know what was sent.
local SETTINGS = __SETTINGS__
local places = SETTINGS.places
local refs = SETTINGS.refs
local answered, current, started, out = 0, 0, 0, nil  -- id: set by setup() in each thread

local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock, bench_timespec *tp);
]]
local clock = ffi.new("bench_timespec")
local function microseconds()  -- CLOCK_MONOTONIC
  ffi.C.clock_gettime(1, clock)
  return tonumber(clock.tv_sec) * 1000000 + math.floor(tonumber(clock.tv_nsec) / 1000)
end
threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end

local function encode(s)
  return (string.gsub(s, "[^%w%-_%.~]", function(ch)
    if ch == " " then return "+" end
    return string.format("%%%02X", string.byte(ch))
  end))
end

local function person(t, c)
  local place = places[((t - 1) * 7919 + c * 104729) % #places + 1]
  local words = ""
  if c % 3 == 0 then words = "This matters to my family." end
  return {zip = place[1], label = place[2], ref = refs[(t + c) % #refs + 1], words = words,
          first_name = string.format("P%dn%d", t, c),
          email = string.format("t%d-%d-%s@example.org", t, c, SETTINGS.tag)}
end

function init(args)
  out = assert(io.open(string.format("%s/%s-%d.txt", SETTINGS.dir, SETTINGS.tag, id), "w"))
end

function request()
  local counter = answered + 1
  if counter > SETTINGS.quota then
    return wrk.format("GET", "/_bench/ping")
  end
  local p
  if SETTINGS.repeat_every > 0 and counter % SETTINGS.repeat_every == 0 then
    p = person(id % SETTINGS.threads + 1, counter - 1)
    if (counter / SETTINGS.repeat_every) % 2 == 1 then p.email = "  " .. string.upper(p.email) .. " " end
  else
    p = person(id, counter)
  end
  current = counter
  started = microseconds()
  local form = {
    "csrf_token=" .. encode(SETTINGS.token), "district=" .. encode(p.label), "letter_lang=en",
    "ref=" .. encode(p.ref), "lookup_zip=" .. p.zip, "prefix=", "first_name=" .. p.first_name,
    "last_name=Tester", "email=" .. encode(p.email), "address1=1+Main+St", "city=Springfield",
    "zip=" .. p.zip, "phone=", "personal_message=" .. encode(p.words), "send=1",
  }
  return wrk.format("POST", SETTINGS.path, {
    ["Content-Type"] = "application/x-www-form-urlencoded", ["Cookie"] = SETTINGS.cookie,
  }, table.concat(form, "&"))
end

function response(status, headers, body)
  if answered >= SETTINGS.quota then return end  -- the minimal endpoint, after the quota
  out:write(string.format("%d %d %s %d\n", current, status, headers["Location"] or "-",
                          microseconds() - started))
  answered = answered + 1
  if answered == SETTINGS.quota then
    out:close()
    local done = assert(io.open(string.format("%s/%s-%d.done", SETTINGS.dir, SETTINGS.tag, id), "w"))
    done:close()
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("errors %d %d %d %d\n", e.connect, e.read, e.write, e.timeout))
end
