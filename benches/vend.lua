-- wrk script for benches/connections.rs: each request asks for the credential of the
-- provider `acme` with a random agent access token from the file LEASH_BENCH_TOKENS.
local tokens = {}

function init(args)
  for line in io.lines(os.getenv("LEASH_BENCH_TOKENS")) do
    tokens[#tokens + 1] = line
  end
  math.randomseed(os.time() + tonumber(tostring(tokens):match("0x(%x+)") or "0", 16))
end

function request()
  local headers = {
    ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)],
    ["Content-Type"] = "application/json",
  }
  return wrk.format("POST", "/v1/credentials", headers, '{"provider":"acme"}')
end
