-- POST /api/v1/reservations, each request a slot of its own: 30 minutes per request, in a
-- block per run and thread, spread over the station's connectors. Prints any status but 201.
-- Arguments: the station id, how many connectors it has, and the run's number.
local counter = 0
local threads = 0
local unexpected = 0

function setup(thread)
  thread:set("thread_index", threads)
  threads = threads + 1
end

function init(args)
  station = args[1]
  connectors = tonumber(args[2])
  local block = tonumber(args[3]) * 16 + thread_index
  -- A block of 2^17 slots of 30 minutes: about seven years.
  base = os.time() + 86400 + block * 131072 * 1800
end

function request()
  counter = counter + 1
  local slot = base + counter * 1800
  local body = string.format(
    '{"stationId":"%s","connectorId":"%d","driverId":"bench-%d","startsAt":"%s","endsAt":"%s"}',
    station, counter % connectors + 1, counter,
    os.date("!%Y-%m-%dT%H:%M:%SZ", slot), os.date("!%Y-%m-%dT%H:%M:%SZ", slot + 1800))
  return wrk.format("POST", nil, { ["content-type"] = "application/json" }, body)
end

function response(status, headers, body)
  if status ~= 201 and unexpected < 5 then
    unexpected = unexpected + 1
    io.stderr:write(string.format("status %d: %s\n", status, body))
  end
end
