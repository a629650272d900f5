-- POST /api/v1/reservations, each request a slot of its own: one hour, a week apart per
-- thread and request, spread over the station's connectors.
-- Arguments: the station id, and how many connectors it has.
local counter = 0
local threads = 0

function setup(thread)
  thread:set("thread_index", threads)
  threads = threads + 1
end

function init(args)
  station = args[1]
  connectors = tonumber(args[2])
  base = os.time() + 86400
end

function request()
  counter = counter + 1
  local slot = base + (thread_index * 1000000 + counter) * 3600
  local body = string.format(
    '{"stationId":"%s","connectorId":"%d","driverId":"bench-%d","startsAt":"%s","endsAt":"%s"}',
    station, counter % connectors + 1, counter,
    os.date("!%Y-%m-%dT%H:%M:%SZ", slot), os.date("!%Y-%m-%dT%H:%M:%SZ", slot + 3600))
  return wrk.format("POST", nil, { ["content-type"] = "application/json" }, body)
end
