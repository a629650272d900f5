-- POST /api/v1/reservations, each request a slot of its own: 30 minutes on one of the
-- station's connectors, every connector in turn, in a window per thread. Prints any status
-- but 201. Arguments: the station id, how many connectors it has, and the run's number
-- (the warm-up is 0, the measurement 1). Headers given with -H (the operator's bearer
-- token) go on every request.
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
  -- A booking starts at most 90 days ahead: each run and thread (of two) books 20 days of
  -- its own from tomorrow, 960 slots per connector.
  local block = tonumber(args[3]) * 2 + thread_index
  base = os.time() + 86400 + block * 20 * 86400
  -- Headers given to wrk.format replace wrk's own, so carry those over.
  headers = { ["content-type"] = "application/json" }
  for name, value in pairs(wrk.headers) do
    headers[name] = value
  end
end

function request()
  local slot = base + math.floor(counter / connectors) * 1800
  counter = counter + 1
  local body = string.format(
    '{"stationId":"%s","connectorId":"%d","driverId":"bench-%d","startsAt":"%s","endsAt":"%s"}',
    station, counter % connectors + 1, counter,
    os.date("!%Y-%m-%dT%H:%M:%SZ", slot), os.date("!%Y-%m-%dT%H:%M:%SZ", slot + 1800))
  return wrk.format("POST", nil, headers, body)
end

function response(status, headers, body)
  if status ~= 201 and unexpected < 5 then
    unexpected = unexpected + 1
    io.stderr:write(string.format("status %d: %s\n", status, body))
  end
end
