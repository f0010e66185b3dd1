-- wrk script for benches/introspection.rs: each request introspects a token from the
-- file LEASH_BENCH_TOKENS at the URL's path, sending LEASH_BENCH_AUTHORIZATION as the
-- Authorization header. The token is drawn uniformly at random, or, with
-- LEASH_BENCH_SKEW=zipf, log-uniformly by its line number (line n about as often as
-- 1/n: a few tokens in heavy use and a long tail, as live traffic is).
local tokens = {}
local headers = {
  ["Authorization"] = os.getenv("LEASH_BENCH_AUTHORIZATION"),
  ["Content-Type"] = "application/x-www-form-urlencoded",
}
local zipf = os.getenv("LEASH_BENCH_SKEW") == "zipf"

function init(args)
  for line in io.lines(os.getenv("LEASH_BENCH_TOKENS")) do
    tokens[#tokens + 1] = line
  end
  math.randomseed(os.time() + tonumber(tostring(tokens):match("0x(%x+)") or "0", 16))
end

local function pick()
  if zipf then
    return math.min(#tokens, math.floor(math.exp(math.random() * math.log(#tokens + 1))))
  end
  return math.random(#tokens)
end

function request()
  return wrk.format("POST", nil, headers, "token=" .. tokens[pick()])
end
