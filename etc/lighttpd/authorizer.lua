-- fcgi-authorizer glue for lighttpd (mod_magnet), printed by
-- `authorizer --print-glue lighttpd`. Load it with
--   magnet.attract-raw-url-to = ( "/etc/lighttpd/authorizer.lua" )
-- and list mod_magnet and mod_fastcgi before mod_proxy in server.modules.
--
-- lighttpd runs this script twice for an allowed request: before the authorizer,
-- and again after it, when lighttpd restarts the request with the authorizer's
-- Variable- values in the request environment.
--
-- Denials reach the client as the authorizer wrote them (a sign-in redirect, every
-- challenge and cookie). The cookies of an allow (addAuthCookiesToResponse) do
-- not: lighttpd 1.4's mod_magnet sets one Set-Cookie at most, replacing the
-- application's own.

local identity = { "X-Auth-UserId", "X-Auth-UserCountryId" }

-- What an application may read as the request's host, scheme, port or path:
-- removed as forged identities are (mod_proxy sets its own X-Forwarded-For and
-- X-Forwarded-Proto, and X-Forwarded-Host when so configured).
local routing = { "Forwarded", "X-Forwarded-Host", "X-Forwarded-Port", "X-Forwarded-Prefix", "X-Forwarded-Server", "X-Host", "X-Original-Host", "X-HTTP-Host-Override", "X-Forwarded-Proto", "X-Forwarded-Ssl", "X-Forwarded-Scheme", "X-Forwarded-Protocol", "X-Url-Scheme", "X-Scheme", "Front-End-Https", "X-Original-URL", "X-Rewrite-URL", "X-Original-URI", "X-Forwarded-Uri", "X-Forwarded-Path", "X-HTTP-Method-Override", "X-Method-Override", "X-HTTP-Method" }

-- The headers the authorizer reads for the auth service.
local read = { "Authorization", "Cookie", "X-Request-Id" }

local r = lighty.r
local env, hdr = r.req_env, r.req_header

-- How an application reading CGI-style variables sees a header name: "X_Auth_UserId"
-- and "x-auth-userid" are both X-Auth-UserId to it.
local function spelling(name)
  return (name:lower():gsub("_", "-"))
end
local is_identity, is_read = {}, {}
for _, name in ipairs(identity) do is_identity[spelling(name)] = true end
for _, name in ipairs(routing) do is_identity[spelling(name)] = true end
for _, name in ipairs(read) do is_read[spelling(name)] = true end

if env["AUTHZ_DECISION"] == nil then
  -- First pass: no client may bring its own identity, in any spelling, whatever the
  -- authorizer says; and a header it reads must come in the one spelling it is shown.
  local forged = {}
  for name in pairs(hdr) do
    local s = spelling(name)
    if is_identity[s] then
      forged[#forged + 1] = name
    elseif is_read[s] and name:find("_", 1, true) then
      return 400
    end
  end
  for _, name in ipairs(forged) do
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
