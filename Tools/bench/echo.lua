-- wrk script: the bare Hummingbird POST baseline (decode + encode a small JSON body).
wrk.method = "POST"
wrk.body = '{"body":"Bonjour, nous avons relancé le service et vidé le cache. Pouvez-vous vérifier de votre côté ?"}'
wrk.headers["Content-Type"] = "application/json"
