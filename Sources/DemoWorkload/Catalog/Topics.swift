/// Why a ticket is opened: a product's recurring problem, with the texts customers write about it
/// and how the desk usually handles it.
struct Topic: Sendable {
    /// The product (and first team) of tickets on this topic.
    let product: Team
    /// Relative frequency within the product.
    let weight: Int
    /// Subject templates (`{d}`: the customer's domain, `{h}`: their server).
    let subject: Localized
    /// Opening body templates.
    let body: Localized
    /// Tags the router puts on such tickets.
    let tags: [Tag]
    /// The control-panel page a web ticket is opened from.
    let panelPath: String
    /// The outside party the desk sometimes waits for (the ticket is then `on_hold`).
    let thirdParty: Localized?
    /// Where such tickets are escalated when first-line support cannot solve them, and why.
    let escalation: (team: Team, reason: String)?
    /// How often such tickets are urgent, relative to the average.
    let urgency: Int
}

extension Topic {
    /// Every topic customers write about, grouped by product, then the monitoring alert.
    static let catalog: [Topic] = domains + hosting + vps + email + [monitoringAlert]

    /// The index of ``monitoringAlert`` in ``catalog``.
    static var monitoringAlertIndex: Int { catalog.count - 1 }

    /// The alert that monitoring files on a customer's behalf (channel `api`, opened by `system`).
    static let monitoringAlert = Topic(
        product: .vps, weight: 0,
        subject: Localized(
            french: ["[Monitoring] {h} ne répond plus"],
            english: ["[Monitoring] {h} is not responding"]),
        body: Localized(
            french: ["Alerte automatique : 3 sondes ICMP et HTTP consécutives en échec sur {h}."],
            english: ["Automatic alert: 3 consecutive ICMP and HTTP probes failed on {h}."]),
        tags: [.monitoring, .outage], panelPath: "panel/vps/monitoring",
        thirdParty: Localized(french: ["le datacenter"], english: ["the datacenter"]),
        escalation: (.vpsL2, "hypervisor node flapping, needs L2 investigation"), urgency: 8)

    static let domains: [Topic] = [
        Topic(
            product: .domains, weight: 30,
            subject: Localized(
                french: ["Le domaine {d} ne résout plus", "{d} inaccessible depuis ce matin"],
                english: ["{d} does not resolve anymore", "DNS problem on {d}"],
                russian: ["Домен {d} не открывается", "DNS: запись для {d} не обновляется"]),
            body: Localized(
                french: ["Depuis ce matin, {d} renvoie « DNS_PROBE_FINISHED_NXDOMAIN ». Je n'ai rien modifié dans la zone."],
                english: ["Since this morning {d} returns NXDOMAIN. I changed the A record yesterday evening."],
                russian: ["Запись A для {d} не обновляется уже 6 часов."]),
            tags: [.dns], panelPath: "panel/domains/dns", thirdParty: nil, escalation: nil, urgency: 2),
        Topic(
            product: .domains, weight: 20,
            subject: Localized(
                french: ["Transfert du domaine {d} bloqué"],
                english: ["Transfer of {d} stuck"],
                russian: ["Перенос домена {d} завис"]),
            body: Localized(
                french: ["J'ai saisi le code d'autorisation il y a cinq jours et le transfert de {d} est toujours « en attente »."],
                english: ["I entered the auth code five days ago and the transfer of {d} still says pending."],
                russian: ["Я ввёл код авторизации пять дней назад, перенос {d} всё ещё в ожидании."]),
            tags: [.transfer], panelPath: "panel/domains/transfer",
            thirdParty: Localized(french: ["le registrar cédant"], english: ["the losing registrar"]),
            escalation: (.billing, "transfer fee charged twice"), urgency: 0),
        Topic(
            product: .domains, weight: 20,
            subject: Localized(
                french: ["Renouvellement de {d} : domaine expiré ?"],
                english: ["Renewal of {d} failed"],
                russian: ["Продление {d} не прошло"]),
            body: Localized(
                french: ["Le paiement est passé mais {d} apparaît comme expiré dans le panel."],
                english: ["My card was charged but {d} shows as expired in the panel."]),
            tags: [.renewal], panelPath: "panel/domains/renew",
            thirdParty: Localized(french: ["le registre"], english: ["the registry"]),
            escalation: (.billing, "payment captured but renewal not applied"), urgency: 2),
        Topic(
            product: .domains, weight: 10,
            subject: Localized(
                french: ["Changement de titulaire pour {d}"],
                english: ["Owner change for {d}"]),
            body: Localized(
                french: ["Suite à la vente de notre fonds de commerce, le titulaire de {d} doit changer. Quels documents fournir ?"],
                english: ["We sold the business; the registrant of {d} must change. Which documents do you need?"]),
            tags: [.whois], panelPath: "panel/domains/owner",
            thirdParty: Localized(french: ["l'AFNIC"], english: ["AFNIC"]), escalation: nil, urgency: 0),
        Topic(
            product: .domains, weight: 8,
            subject: Localized(
                french: ["Erreur DNSSEC sur {d}"],
                english: ["DNSSEC validation failing for {d}"]),
            body: Localized(
                french: ["Les résolveurs validants renvoient SERVFAIL pour {d} depuis la rotation des clés."],
                english: ["Validating resolvers return SERVFAIL for {d} since the key rollover."]),
            tags: [.dns, .dnssec], panelPath: "panel/domains/dnssec", thirdParty: nil, escalation: nil, urgency: 3),
    ]

    static let hosting: [Topic] = [
        Topic(
            product: .hosting, weight: 25,
            subject: Localized(
                french: ["Erreur 500 sur {d}", "Site en panne après migration"],
                english: ["500 Internal Server Error on {d}", "Site down after migration"],
                russian: ["Ошибка 500 на {d}"]),
            body: Localized(
                french: ["Mon site affiche une erreur 500 depuis la mise à jour de WordPress. Les logs parlent de « memory exhausted »."],
                english: ["The site shows a 500 error since the WordPress update; the error log says memory exhausted."],
                russian: ["После обновления сайт показывает ошибку 500."]),
            tags: [.php, .http500], panelPath: "panel/hosting/logs", thirdParty: nil,
            escalation: (.hostingL2, "php-fpm pool saturated, needs server access"), urgency: 4),
        Topic(
            product: .hosting, weight: 18,
            subject: Localized(
                french: ["Certificat SSL expiré sur {d}"],
                english: ["SSL certificate expired on {d}"],
                russian: ["Истёк SSL-сертификат на {d}"]),
            body: Localized(
                french: [
                    "Les visiteurs ont une alerte « Votre connexion n'est pas privée » sur {d}. Le renouvellement automatique n'a pas marché ?"
                ],
                english: ["Visitors get a privacy warning on {d}. Didn't the automatic renewal run?"]),
            tags: [.ssl], panelPath: "panel/hosting/ssl", thirdParty: nil,
            escalation: (.hostingL2, "ACME renewal failing on the shared cluster"), urgency: 2),
        Topic(
            product: .hosting, weight: 15,
            subject: Localized(
                french: ["Site très lent depuis ce matin"],
                english: ["Website extremely slow since this morning"]),
            body: Localized(
                french: ["{d} met plus de 10 secondes à charger, même la page d'accueil."],
                english: ["{d} takes more than 10 seconds to load, even the home page."]),
            tags: [.performance], panelPath: "panel/hosting/stats", thirdParty: nil,
            escalation: (.hostingL2, "noisy neighbour on the shared node"), urgency: 1),
        Topic(
            product: .hosting, weight: 12,
            subject: Localized(
                french: ["Impossible de se connecter à la base MySQL"],
                english: ["Cannot connect to the MySQL database"]),
            body: Localized(
                french: ["« Too many connections » sur la base de {d} depuis une heure."],
                english: ["Getting 'Too many connections' on the database of {d} for an hour."]),
            tags: [.mysql], panelPath: "panel/hosting/databases", thirdParty: nil, escalation: nil, urgency: 3),
        Topic(
            product: .hosting, weight: 8,
            subject: Localized(
                french: ["Mon site {d} a été piraté"],
                english: ["Site {d} hacked, redirecting to spam"],
                russian: ["Сайт {d} взломан"]),
            body: Localized(
                french: ["Google affiche « Ce site a peut-être été piraté » et la page d'accueil redirige vers un casino."],
                english: ["Google flags the site and the home page redirects to a casino."]),
            tags: [.malware], panelPath: "panel/hosting/security", thirdParty: nil,
            escalation: (.abuse, "compromised site serving phishing pages"), urgency: 5),
        Topic(
            product: .hosting, weight: 10,
            subject: Localized(
                french: ["Accès FTP refusé"],
                english: ["FTP login refused"]),
            body: Localized(
                french: ["FileZilla répond « 530 Login incorrect » alors que le mot de passe vient d'être changé."],
                english: ["FileZilla says '530 Login incorrect' although I just reset the password."]),
            tags: [.ftp], panelPath: "panel/hosting/ftp", thirdParty: nil, escalation: nil, urgency: 0),
        Topic(
            product: .hosting, weight: 12,
            subject: Localized(
                french: ["Restauration d'une sauvegarde de {d}"],
                english: ["Need to restore yesterday's backup of {d}"]),
            body: Localized(
                french: ["Un plugin a effacé des pages ; pouvez-vous restaurer la sauvegarde d'hier soir ?"],
                english: ["A plugin wiped several pages; can you restore last night's backup?"]),
            tags: [.backup], panelPath: "panel/hosting/backups", thirdParty: nil,
            escalation: (.billing, "restore fee disputed"), urgency: 2),
    ]

    static let vps: [Topic] = [
        Topic(
            product: .vps, weight: 22,
            subject: Localized(
                french: ["VPS {h} injoignable", "Serveur {h} down"],
                english: ["VPS {h} unreachable", "Server {h} down"],
                russian: ["VPS {h} недоступен"]),
            body: Localized(
                french: ["Plus de ping ni de SSH sur {h} depuis 20 minutes. Production à l'arrêt."],
                english: ["No ping and no SSH on {h} for 20 minutes. Production is down."],
                russian: ["Сервер {h} не отвечает на ping и SSH уже 20 минут."]),
            tags: [.outage, .network], panelPath: "panel/vps/status",
            thirdParty: Localized(french: ["le datacenter"], english: ["the datacenter"]),
            escalation: (.vpsL2, "hypervisor node unresponsive"), urgency: 8),
        Topic(
            product: .vps, weight: 15,
            subject: Localized(
                french: ["Le VPS ne redémarre plus après la mise à jour"],
                english: ["VPS won't boot after kernel upgrade"]),
            body: Localized(
                french: ["Après apt upgrade et reboot, {h} reste bloqué sur « Kernel panic - not syncing »."],
                english: ["After apt upgrade and a reboot, {h} is stuck at 'Kernel panic - not syncing'."]),
            tags: [.boot], panelPath: "panel/vps/console", thirdParty: nil,
            escalation: (.vpsL2, "rescue-mode boot and fsck needed"), urgency: 5),
        Topic(
            product: .vps, weight: 15,
            subject: Localized(
                french: ["Agrandir le disque du VPS {h}"],
                english: ["Resize the disk of {h}"]),
            body: Localized(
                french: ["Le disque de {h} est plein à 98 %. Comment passer à l'offre supérieure sans perte de données ?"],
                english: ["{h} is 98% full. How do I upgrade the plan without losing data?"]),
            tags: [.disk, .upgrade], panelPath: "panel/vps/resize", thirdParty: nil,
            escalation: (.billing, "prorated upgrade invoice wrong"), urgency: 1),
        Topic(
            product: .vps, weight: 10,
            subject: Localized(
                french: ["Attaque DDoS sur {h}"],
                english: ["DDoS on {h}"],
                russian: ["DDoS-атака на {h}"]),
            body: Localized(
                french: ["Trafic UDP énorme sur {h}, la bande passante est saturée."],
                english: ["Massive UDP flood on {h}, bandwidth is saturated."]),
            tags: [.ddos, .network], panelPath: "panel/vps/network",
            thirdParty: Localized(french: ["notre transitaire réseau"], english: ["our upstream provider"]),
            escalation: (.vpsL2, "mitigation profile to enable on the edge"), urgency: 6),
        Topic(
            product: .vps, weight: 10,
            subject: Localized(
                french: ["Snapshot échoué sur {h}"],
                english: ["Snapshot failed on {h}"]),
            body: Localized(
                french: ["Le snapshot planifié de cette nuit est en erreur « storage timeout »."],
                english: ["Last night's scheduled snapshot ended with 'storage timeout'."]),
            tags: [.snapshot], panelPath: "panel/vps/snapshots", thirdParty: nil,
            escalation: (.vpsL2, "Ceph pool degraded"), urgency: 1),
        Topic(
            product: .vps, weight: 8,
            subject: Localized(
                french: ["Reverse DNS pour {h}"],
                english: ["Set reverse DNS (PTR) for {h}"]),
            body: Localized(
                french: ["Pouvez-vous mettre le PTR de l'IP de {h} sur mail.{d} ?"],
                english: ["Please set the PTR of {h}'s IP to mail.{d}."]),
            tags: [.rdns], panelPath: "panel/vps/network", thirdParty: nil,
            escalation: (.abuse, "IP previously listed, needs abuse review"), urgency: 0),
    ]

    static let email: [Topic] = [
        Topic(
            product: .email, weight: 25,
            subject: Localized(
                french: ["Je ne reçois plus mes e-mails sur contact@{d}"],
                english: ["Not receiving emails at contact@{d}"],
                russian: ["Не приходят письма на contact@{d}"]),
            body: Localized(
                french: ["Aucun e-mail reçu depuis hier midi ; les expéditeurs ont un retour « mailbox unavailable »."],
                english: ["No mail since yesterday noon; senders get 'mailbox unavailable' bounces."]),
            tags: [.mx], panelPath: "panel/email/mailboxes", thirdParty: nil,
            escalation: (.hostingL2, "MX cluster queue stuck"), urgency: 4),
        Topic(
            product: .email, weight: 20,
            subject: Localized(
                french: ["Nos e-mails arrivent en spam chez Gmail et Outlook"],
                english: ["Our emails land in spam at Gmail and Outlook"]),
            body: Localized(
                french: ["Tous nos devis partent en indésirables. SPF et DKIM sont-ils bien configurés pour {d} ?"],
                english: ["All our quotes end up in spam. Are SPF and DKIM set up correctly for {d}?"]),
            tags: [.deliverability, .spf], panelPath: "panel/email/dns",
            thirdParty: Localized(french: ["Microsoft (Outlook.com)", "Spamhaus"], english: ["Microsoft (Outlook.com)", "Spamhaus"]),
            escalation: (.abuse, "outbound IP listed by Spamhaus"), urgency: 1),
        Topic(
            product: .email, weight: 15,
            subject: Localized(
                french: ["Boîte mail pleine"],
                english: ["Mailbox quota exceeded"]),
            body: Localized(
                french: ["La boîte compta@{d} refuse les messages, quota dépassé. Peut-on l'agrandir ?"],
                english: ["The mailbox accounts@{d} rejects mail, quota exceeded. Can it be enlarged?"]),
            tags: [.quota], panelPath: "panel/email/quota", thirdParty: nil,
            escalation: (.billing, "extra storage pack billing"), urgency: 0),
        Topic(
            product: .email, weight: 15,
            subject: Localized(
                french: ["Outlook n'arrive plus à se connecter (IMAP)"],
                english: ["Outlook can't connect over IMAP"],
                russian: ["Outlook не подключается по IMAP"]),
            body: Localized(
                french: ["Depuis ce matin Outlook redemande sans cesse le mot de passe de la boîte."],
                english: ["Since this morning Outlook keeps asking for the mailbox password."]),
            tags: [.imap], panelPath: "panel/email/settings", thirdParty: nil, escalation: nil, urgency: 1),
        Topic(
            product: .email, weight: 10,
            subject: Localized(
                french: ["Créer une redirection pour {d}"],
                english: ["Set up forwarding for {d}"]),
            body: Localized(
                french: ["Je voudrais rediriger info@{d} vers deux adresses Gmail."],
                english: ["I'd like info@{d} forwarded to two Gmail addresses."]),
            tags: [.alias], panelPath: "panel/email/aliases", thirdParty: nil, escalation: nil, urgency: 0),
    ]
}
