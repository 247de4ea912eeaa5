-- fcgi-authorizer glue for lighttpd (mod_magnet), printed by
-- `authorizer --print-glue lighttpd`. Load it with
--   magnet.attract-raw-url-to = ( "/etc/lighttpd/authorizer.lua" )
-- and list mod_magnet and mod_fastcgi before mod_proxy in server.modules.
--
-- lighttpd runs this script twice for an allowed request: before the authorizer,
-- and again after it, when lighttpd restarts the request with the authorizer's
-- Variable- values in the request environment.

local identity = { "X-Auth-UserId", "X-Auth-UserCountryId" }

local r = lighty.r
local env, hdr = r.req_env, r.req_header

if env["AUTHZ_DECISION"] == nil then
  -- First pass: no client may bring its own identity, whatever the authorizer says.
  for _, name in ipairs(identity) do
    hdr[name] = nil
  end
  return 0
end

-- Second pass: the authorizer allowed the request. Identity comes only from it.
for _, name in ipairs(identity) do
  hdr[name] = env[name] -- nil (not sent by the auth service) removes the header
end

-- mod_proxy sends request.uri: the raw path as the client sent it (request.uri
-- itself is already normalized by lighttpd), with the authorizer's query.
local path = r.req_attr["request.orig-uri"]:match("^[^?]*")
local query = env["AUTHZ_QUERY_STRING"] or ""
if query ~= "" then
  path = path .. "?" .. query
end
r.req_attr["request.uri"] = path
return 0
