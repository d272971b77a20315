namespace CompressBuild.Core.Planning;

/// <summary>
/// Places buffers with known lifetimes in one arena so buffers that are never alive at the same
/// time share memory. Greedy by size (largest first), lowest free offset: simple, deterministic,
/// and close to optimal for the chain-shaped graphs of small models.
/// </summary>
internal static class ArenaAllocator
{
    /// <summary>Alignment of every buffer, in bytes (a cache line; also enough for any SIMD load).</summary>
    public const int Alignment = 64;

    /// <summary>A buffer to place: live from step <paramref name="First"/> to step <paramref name="Last"/> inclusive.</summary>
    public readonly record struct Request(int Id, long Bytes, int First, int Last);

    /// <summary>Returns each request's byte offset and the arena size.</summary>
    public static (long[] Offsets, long Size) Allocate(IReadOnlyList<Request> requests)
    {
        var offsets = new long[requests.Count];
        var placed = new List<(long Start, long End, int First, int Last)>();
        long size = 0;
        // Largest first, ties by id, so the layout depends only on the plan.
        foreach (int index in Enumerable.Range(0, requests.Count).OrderByDescending(i => requests[i].Bytes).ThenBy(i => requests[i].Id))
        {
            var r = requests[index];
            long bytes = RoundUp(Math.Max(r.Bytes, 1));
            var conflicts = placed.Where(p => p.First <= r.Last && r.First <= p.Last).OrderBy(p => p.Start).ToList();
            long offset = 0;
            foreach (var c in conflicts)
            {
                if (offset + bytes <= c.Start) break;
                offset = Math.Max(offset, c.End);
            }
            offsets[index] = offset;
            placed.Add((offset, offset + bytes, r.First, r.Last));
            size = Math.Max(size, offset + bytes);
        }
        return (offsets, size);
    }

    private static long RoundUp(long x) => (x + Alignment - 1) / Alignment * Alignment;
}
