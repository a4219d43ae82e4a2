import EventLog
import SupportDomain
import SupportService
import Testing

@testable import SupportServer

/// The cache of recently written tickets is bounded in bytes, not only in tickets.
@Suite("Ticket cache")
struct TicketCacheTests {
    func ticket(_ id: String, body bytes: Int) -> Ticket {
        let opened = TicketEvent.Opened(
            customer: "c-1", subject: "Subject of \(id)", body: String(repeating: "b", count: bytes),
            channel: .web, product: "hosting", priority: .normal)
        return Ticket(id: id, opened: opened, at: ManualClock.start, by: SupportActor(kind: .customer, id: "c-1"))
    }

    @Test func largeTicketsStayWithinTheByteBudget() {
        let cache = TicketCache(capacity: 10_000, budget: 4 << 20)
        for k in 0..<200 {
            cache.store(ticket("T-\(k)", body: 100_000))
            #expect(cache.usage.bytes <= cache.budget, "after \(k + 1) tickets of 100 kB: \(cache.usage)")
        }
        #expect(cache.usage.tickets < 42, "\(cache.usage)")
        #expect(cache.ticket("T-199") != nil, "the latest ticket was evicted")
        #expect(cache.ticket("T-0") == nil, "the oldest ticket is still there")
    }

    @Test func aTicketLargerThanItsShareOfTheBudgetIsNotCached() {
        let cache = TicketCache(capacity: 100, budget: 1 << 20)
        cache.store(ticket("T-small", body: 1000))
        let huge = ticket("T-huge", body: cache.largestEntry)
        #expect(TicketCache.estimatedSize(of: huge) > cache.largestEntry)
        cache.store(huge)
        #expect(cache.ticket("T-huge") == nil)
        #expect(cache.ticket("T-small") != nil, "storing a huge ticket evicted others")
        // A stale smaller version of it is dropped too, rather than kept.
        let cacheWithOld = TicketCache(capacity: 100, budget: 1 << 20)
        cacheWithOld.store(ticket("T-huge", body: 10))
        cacheWithOld.store(huge)
        #expect(cacheWithOld.ticket("T-huge") == nil)
        #expect(cacheWithOld.usage.bytes == 0)
    }

    @Test func recentlyReadTicketsSurviveEviction() {
        let cache = TicketCache(capacity: 10, budget: 64 << 20)
        for k in 0..<10 { cache.store(ticket("T-\(k)", body: 10)) }
        _ = cache.ticket("T-0")
        cache.store(ticket("T-10", body: 10))
        #expect(cache.usage.tickets <= 10)
        #expect(cache.ticket("T-0") != nil, "the ticket read last was evicted")
        #expect(cache.ticket("T-10") != nil)
        #expect(cache.ticket("T-1") == nil, "the least recently used ticket is still there")
    }

    @Test func anOlderVersionNeverReplacesANewerOne() {
        let cache = TicketCache()
        var newer = ticket("T-1", body: 10)
        newer.apply(.priorityChanged(.high), version: 2, at: ManualClock.start, actor: SupportActor(kind: .agent, id: "alice"))
        cache.store(newer)
        cache.store(ticket("T-1", body: 10))
        #expect(cache.ticket("T-1")?.version == 2)
    }
}
