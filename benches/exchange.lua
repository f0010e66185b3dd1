-- wrk script for benches/agent_sessions.rs: token exchanges by the agent
-- LEASH_BENCH_CLIENT_ID / LEASH_BENCH_CLIENT_SECRET, each delegating from the next of the
-- user session tokens in the file LEASH_BENCH_SUBJECTS (one per line), in turn.
local credentials = os.getenv("LEASH_BENCH_CLIENT_ID") .. ":" .. os.getenv("LEASH_BENCH_CLIENT_SECRET")

local function base64(data)
  local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
  return ((data:gsub(".", function(x)
    local r, b = "", x:byte()
    for i = 8, 1, -1 do r = r .. (b % 2 ^ i - b % 2 ^ (i - 1) > 0 and "1" or "0") end
    return r
  end) .. "0000"):gsub("%d%d%d?%d?%d?%d?", function(x)
    if #x < 6 then return "" end
    local c = 0
    for i = 1, 6 do c = c + (x:sub(i, i) == "1" and 2 ^ (6 - i) or 0) end
    return alphabet:sub(c + 1, c + 1)
  end) .. ({ "", "==", "=" })[#data % 3 + 1])
end

local headers = {
  ["Authorization"] = "Basic " .. base64(credentials),
  ["Content-Type"] = "application/x-www-form-urlencoded",
}
local bodies = {}
for subject in io.lines(os.getenv("LEASH_BENCH_SUBJECTS")) do
  bodies[#bodies + 1] = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange"
    .. "&subject_token=" .. subject
    .. "&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token"
    .. "&scope=a"
end
local sent = 0

function request()
  sent = sent + 1
  return wrk.format("POST", "/oauth2/token", headers, bodies[sent % #bodies + 1])
end
