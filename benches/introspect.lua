-- wrk script for benches/introspection.rs: each request introspects a random token
-- from the file LEASH_BENCH_TOKENS with the key LEASH_BENCH_KEY.
local tokens = {}
local headers = {
  ["Authorization"] = "Bearer " .. os.getenv("LEASH_BENCH_KEY"),
  ["Content-Type"] = "application/x-www-form-urlencoded",
}

function init(args)
  for line in io.lines(os.getenv("LEASH_BENCH_TOKENS")) do
    tokens[#tokens + 1] = line
  end
  math.randomseed(os.time() + tonumber(tostring(tokens):match("0x(%x+)") or "0", 16))
end

function request()
  return wrk.format("POST", "/oauth2/introspect", headers, "token=" .. tokens[math.random(#tokens)])
end
