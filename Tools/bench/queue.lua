-- wrk script: GET a team queue (limit=50) with a bearer token (Tools/bench/http-queue.sh).
wrk.headers["Authorization"] = "Bearer " .. os.getenv("AGENT_TOKEN")
