namespace CompressBuild.TestSupport;

/// <summary>One line of a verdict list: <c>folder/test pass|skip [Op,Op] reason</c>.</summary>
public sealed record SuiteEntry(string Id, bool Pass, IReadOnlyList<string> Ops, string Reason)
{
    /// <summary>Parses a verdict list (lines starting with # are comments).</summary>
    public static IReadOnlyList<SuiteEntry> Parse(IEnumerable<string> lines)
    {
        var result = new List<SuiteEntry>();
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var parts = line.Split(' ', 4, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 3 || parts[1] is not ("pass" or "skip") || !parts[2].StartsWith('['))
                throw new FormatException($"bad suite list line: {raw}");
            var ops = parts[2].Trim('[', ']').Split(',', StringSplitOptions.RemoveEmptyEntries);
            result.Add(new SuiteEntry(parts[0], parts[1] == "pass", ops, parts.Length > 3 ? parts[3] : ""));
        }
        return result;
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Id} {(Pass ? "pass" : "skip")} [{string.Join(",", Ops)}]{(Reason.Length > 0 ? " " + Reason : "")}";
}

/// <summary>
/// Writes a regenerated verdict list: passes, and skips whose reason is either the previous
/// hand-written reason (kept) or "fails: &lt;problem&gt;" for a reviewer to replace.
/// </summary>
public static class SuiteVerdicts
{
    /// <summary>
    /// The update target from an environment variable: "1" means the committed list, any other value
    /// a file path; null when not updating.
    /// </summary>
    public static string? UpdateTarget(string variable, string committedList) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } v ? v == "1" ? committedList : v : null;

    /// <summary>Writes the list to <paramref name="path"/>.</summary>
    public static void Write(string path, IEnumerable<string> header, IReadOnlyDictionary<string, string?> results,
        Func<string, IReadOnlyList<string>> ops, IReadOnlyList<SuiteEntry> previous)
    {
        var old = previous.ToDictionary(e => e.Id);
        var lines = header.Select(h => "# " + h).ToList();
        foreach (var (id, problem) in results.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            string reason = problem is null ? ""
                : old.TryGetValue(id, out var prev) && !prev.Pass && prev.Reason.Length > 0 && !prev.Reason.StartsWith("fails:", StringComparison.Ordinal)
                    ? prev.Reason
                    : "fails: " + Flatten(problem);
            lines.Add(new SuiteEntry(id, problem is null, ops(id), reason).ToString());
        }
        File.WriteAllLines(path, lines);
    }

    private static string Flatten(string s)
    {
        s = s.Replace('\n', ' ').Replace('\r', ' ');
        return s.Length > 200 ? s[..200] + "..." : s;
    }
}
