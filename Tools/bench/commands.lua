-- wrk script: the command mix of a support desk against supportd (Tools/bench/http-commands.sh).
-- Env: AGENT_TOKEN, TICKETS (how many tickets T-1..T-N exist).
local token = os.getenv("AGENT_TOKEN")
local tickets = tonumber(os.getenv("TICKETS") or "1000")
local agents = {"amelie", "bruno", "chloe", "david", "emma", "farid"}
local priorities = {"low", "normal", "high", "urgent"}
local headers = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}
local products = {"hosting", "domains", "vps", "email"}

request = function()
  local r = math.random(100)
  local t = "/v1/tickets/T-" .. math.random(1, tickets)
  if r <= 50 then
    return wrk.format("POST", t .. "/messages", headers,
      '{"body":"Bonjour, nous avons relancé le service et vidé le cache. Pouvez-vous vérifier de votre côté ?"}')
  elseif r <= 65 then
    return wrk.format("POST", t .. "/notes", headers, '{"body":"Checked the logs on web-12: OOM killer at 03:12."}')
  elseif r <= 75 then
    return wrk.format("POST", t .. "/priority", headers,
      '{"priority":"' .. priorities[math.random(#priorities)] .. '"}')
  elseif r <= 85 then
    return wrk.format("POST", t .. "/assign", headers, '{"agent":"' .. agents[math.random(#agents)] .. '"}')
  elseif r <= 90 then
    return wrk.format("POST", t .. "/tags", headers, '{"added":["load-test"]}')
  else
    return wrk.format("POST", "/v1/tickets", headers,
      '{"customer":"c-' .. math.random(1000, 9999) .. '","subject":"Mail bounce","body":"Our mails bounce since this morning.",' ..
      '"channel":"email","product":"' .. products[math.random(#products)] .. '","priority":"normal"}')
  end
end
