/// The texts of messages, notes and rating comments. `{t}` is a third party, `{a}` an agent.
enum Phrases {
    static let greeting = Localized(
        french: ["Bonjour,", "Bonjour à toute l'équipe,", "Bonsoir,"],
        english: ["Hello,", "Hi,", "Hi team,"],
        russian: ["Здравствуйте,", "Добрый день,"])

    static let signOff = Localized(
        french: ["Merci d'avance.", "Cordialement,", "Merci !", "Bien à vous,"],
        english: ["Thanks in advance.", "Best regards,", "Thanks!", "Cheers,"],
        russian: ["Спасибо.", "С уважением,"])

    /// Rare trailing emoji of customer messages.
    static let emoji = [" 🙏", " 👍", " 😊", " 😡", " 🔥"]

    // MARK: Agent messages (public replies)

    static let acknowledge = Localized(
        french: [
            "Bonjour, merci pour votre message. Nous analysons la situation et revenons vers vous rapidement.",
            "Bonjour, nous regardons cela tout de suite.",
        ],
        english: [
            "Hello, thanks for reaching out. We're looking into it and will get back to you shortly.",
            "Hi, we're on it and will update you soon.",
        ])

    static let progress = Localized(
        french: [
            "Point d'étape : nous avons identifié la cause probable, le correctif est en cours.",
            "Nous sommes toujours dessus ; nous vous tenons informé dans la journée.",
        ],
        english: [
            "Quick update: we've found the likely cause and are working on the fix.",
            "Still on it; we'll keep you posted today.",
        ])

    static let askInformation = Localized(
        french: [
            "Pourriez-vous nous indiquer l'heure exacte de l'incident et l'URL concernée ?",
            "Pouvez-vous nous envoyer une capture d'écran du message d'erreur ?",
            "Nous avons appliqué un correctif. Pouvez-vous vérifier de votre côté et nous confirmer ?",
        ],
        english: [
            "Could you tell us the exact time of the incident and the URL involved?",
            "Could you send us a screenshot of the error message?",
            "We've applied a fix. Could you check on your side and confirm?",
        ])

    static let solution = Localized(
        french: [
            "Nous avons corrigé la configuration ; tout fonctionne à nouveau de notre côté. N'hésitez pas à revenir vers nous si besoin.",
            "C'est réglé : la zone DNS et le service ont été resynchronisés. Bonne journée !",
            "Le problème venait d'une limite atteinte sur votre offre ; nous l'avons relevée. Tout est rentré dans l'ordre.",
        ],
        english: [
            "We've fixed the configuration and everything works again on our side. Let us know if anything else comes up.",
            "Sorted: the service has been resynchronised. Have a nice day!",
            "The issue came from a limit of your plan; we've raised it and all is back to normal.",
        ])

    static let confirmationThanks = Localized(
        french: ["Parfait, merci pour votre retour ! Nous clôturons la demande.", "Super, bonne journée !"],
        english: ["Great, thanks for confirming! We're closing this request.", "Perfect, have a nice day!"])

    static let waitingThirdParty = Localized(
        french: ["Nous avons transmis la demande à notre partenaire ({t}). Nous revenons vers vous dès leur réponse."],
        english: ["We've passed the request on to {t} and will update you as soon as they answer."])

    static let thirdPartyDone = Localized(
        french: [
            "Bonne nouvelle : notre partenaire ({t}) a traité la demande, tout est en ordre.",
            "Nous avons eu la réponse de notre partenaire ({t}) ; l'opération est terminée.",
        ],
        english: [
            "Good news: {t} has processed the request, all is in order.",
            "We got an answer from {t}; the operation is complete.",
        ])

    static let escalating = Localized(
        french: ["Je transmets votre demande à notre équipe spécialisée, qui reprend la main."],
        english: ["I'm handing your request over to our specialist team, who will take it from here."])

    static let reminder = Localized(
        french: ["Avez-vous pu vérifier ? Sans retour de votre part, nous clôturerons ce ticket dans quelques jours."],
        english: ["Did you have a chance to check? Without news from you we'll close this ticket in a few days."])

    static let callSummary = Localized(
        french: ["Suite à notre appel : la manipulation a été faite ensemble et le service répond de nouveau."],
        english: ["Following our call: we went through the fix together and the service is answering again."])

    static let callOpening = Localized(
        french: ["Appel client : problème décrit par téléphone, voir la note interne."],
        english: ["Customer call: issue described over the phone, see the internal note."])

    // MARK: Customer messages

    static let information = Localized(
        french: ["Voici les informations demandées : l'erreur apparaît depuis hier vers 18 h.", "Je vous joins la capture d'écran."],
        english: ["Here is what you asked for: the error started yesterday around 6 pm.", "Screenshot attached."],
        russian: ["Вот скриншот ошибки.", "Ошибка появилась вчера около 18:00."])

    static let stillBroken = Localized(
        french: ["Toujours le même problème, rien n'a changé de mon côté.", "Ça ne marche toujours pas…"],
        english: ["Still the same problem, nothing changed on my side.", "Still not working…"],
        russian: ["Проблема всё ещё есть.", "Ничего не изменилось."])

    static let works = Localized(
        french: ["C'est bon, ça fonctionne, merci beaucoup !", "Tout est rentré dans l'ordre, merci."],
        english: ["All good now, thanks a lot!", "It works again, thank you."],
        russian: ["Всё заработало, спасибо!"])

    static let nudge = Localized(
        french: ["Bonjour, avez-vous des nouvelles ? C'est assez urgent pour nous.", "Relance : toujours sans réponse."],
        english: ["Any update on this? It's quite urgent for us.", "Following up: still no answer."],
        russian: ["Есть новости? Это срочно."])

    static let reopening = Localized(
        french: ["Le problème est revenu ce matin.", "Finalement ça ne marche plus depuis hier soir."],
        english: ["The issue is back this morning.", "It stopped working again last night."],
        russian: ["Проблема снова появилась."])

    static let duplicateBody = Localized(
        french: ["Je renvoie ma demande car je n'ai pas eu de réponse : "],
        english: ["Sending this again as I got no answer: "],
        russian: ["Повторяю запрос, ответа не было: "])

    // MARK: Internal notes

    static let investigation = [
        "Checked the logs: nothing abnormal on the front nodes.",
        "Vérifié côté serveur, la config semble correcte.",
        "Customer is a reseller with ~40 sites, handle with care.",
        "MX records still point to the previous provider.",
        "Reproduced the issue from the office network.",
        "Voir ticket similaire la semaine dernière, même cause probable.",
    ]

    static let thirdPartyReply = [
        "Confirmation from {t} received by e-mail, reference attached to the ticket.",
        "Réponse reçue ({t}), opération effectuée.",
    ]

    static let escalationNote = [
        "Escalated: beyond first-line access rights.",
        "Escalade : nécessite un accès root sur l'hôte.",
    ]

    static let handover = [
        "Shift change: handing over to {a}.",
        "Fin de service, je passe la main à {a}.",
    ]

    static let pager = "Out of hours: on-call engineer {a} paged."
    static let abuseReview = "Account flagged for abuse review; services kept online."
    static let wrongQueue = "Wrong queue, moving to {q}."
    static let duplicateNote = "Duplicate of an open ticket from the same customer."
    static let spamNote = "Spam / phishing sent to the support address; closing."
    static let phoneNote = [
        "Call notes: customer walked through the panel with me, see summary.",
        "Appel : client très stressé, site e-commerce à l'arrêt.",
    ]

    // MARK: Ratings

    static let praise = Localized(
        french: ["Rapide et efficace, merci !", "Très bon support, comme d'habitude."],
        english: ["Quick and helpful.", "Great support, thanks!"],
        russian: ["Быстро и понятно, спасибо!"])

    static let lukewarm = Localized(
        french: ["Correct, mais un peu long."],
        english: ["OK, but it took a while."],
        russian: ["Нормально, но долго."])

    static let complaint = Localized(
        french: ["Trois jours pour une réponse, inadmissible.", "Problème toujours pas vraiment réglé."],
        english: ["Way too slow.", "Issue not really fixed."],
        russian: ["Слишком долго."])

    // MARK: Attachments

    /// Typical customer attachments: name, content type, size range in bytes.
    static let attachments: [(name: String, contentType: String, sizes: ClosedRange<Int64>)] = [
        ("capture.png", "image/png", 40_000...2_500_000),
        ("screenshot.png", "image/png", 40_000...3_000_000),
        ("error.log", "text/plain", 300...400_000),
        ("dig.txt", "text/plain", 200...4_000),
        ("facture-2026.pdf", "application/pdf", 30_000...400_000),
        ("headers.eml", "message/rfc822", 2_000...60_000),
        ("photo écran.jpg", "image/jpeg", 80_000...4_000_000),
    ]
}
