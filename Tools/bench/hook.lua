-- wrk script: a webhook delivery straight to the receiver (Tools/bench/webhooks.sh): the body of
-- a real event envelope (the file HOOK_BODY) and the webhook headers (the signature not checked).
local file = assert(io.open(os.getenv("HOOK_BODY"), "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Ledgerdesk-Event"] = "message.posted"
wrk.headers["X-Ledgerdesk-Delivery"] = "1042"
wrk.headers["X-Ledgerdesk-Webhook"] = "W-1"
wrk.headers["X-Ledgerdesk-Signature"] = "t=1796300000,v1=" .. string.rep("0", 64)
