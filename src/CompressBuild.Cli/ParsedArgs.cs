using System.Globalization;
using CompressBuild.Cli.Commands;

namespace CompressBuild.Cli;

/// <summary>Positional arguments and <c>--name value</c> options of one command.</summary>
internal sealed class ParsedArgs
{
    // Option names compare case-insensitively and ignore dashes: --class-name, --ClassName, --classname.
    private readonly Dictionary<string, List<string>> _options = new(StringComparer.OrdinalIgnoreCase);

    private static string Normalize(string name) => name.Replace("-", "", StringComparison.Ordinal);

    public List<string> Positional { get; } = new();

    public static ParsedArgs Parse(ReadOnlySpan<string> args, ICommand command)
    {
        var result = new ParsedArgs();
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            if (a.StartsWith("--", StringComparison.Ordinal))
            {
                string name = a[2..];
                string? value = null;
                int eq = name.IndexOf('=');
                if (eq >= 0)
                {
                    value = name[(eq + 1)..];
                    name = name[..eq];
                }
                name = command.Options.FirstOrDefault(o => string.Equals(Normalize(o), Normalize(name), StringComparison.OrdinalIgnoreCase)) ?? name;
                if (!command.Options.Contains(name))
                    throw new CompressBuildException(ErrorCodes.Usage, $"'{command.Name}' has no option --{name}; options: {string.Join(", ", command.Options.Select(o => "--" + o))}.");
                if (value is null)
                {
                    if (i + 1 >= args.Length) throw new CompressBuildException(ErrorCodes.Usage, $"option --{name} of '{command.Name}' needs a value.");
                    value = args[++i];
                }
                if (!result._options.TryGetValue(name, out var list)) result._options[name] = list = new List<string>();
                list.Add(value);
            }
            else
            {
                result.Positional.Add(a);
            }
        }
        return result;
    }

    public IReadOnlyList<string> All(string name) => _options.TryGetValue(name, out var l) ? l : (IReadOnlyList<string>)Array.Empty<string>();

    public string? Optional(string name)
    {
        var all = All(name);
        if (all.Count > 1) throw new CompressBuildException(ErrorCodes.Usage, $"option --{name} is given {all.Count} times; give it once.");
        return all.Count == 1 ? all[0] : null;
    }

    public string Required(string name, string command) =>
        Optional(name) ?? throw new CompressBuildException(ErrorCodes.Usage, $"'{command}' needs --{name}. Run 'compressbuild --help'.");

    public string Model(string command)
    {
        if (Positional.Count != 1)
            throw new CompressBuildException(ErrorCodes.Usage, $"'{command}' takes one model file, got {Positional.Count} positional argument(s). Usage: compressbuild {command} MODEL.onnx ...");
        return Positional[0];
    }

    public double? Number(string name)
    {
        string? v = Optional(name);
        if (v is null) return null;
        if (TryParseNumber(v, out double d)) return d;
        throw new CompressBuildException(ErrorCodes.Usage, $"--{name} '{v}' is not a number (e.g. 0.5 or 1/255).");
    }

    public int Int(string name, int defaultValue, int min)
    {
        string? v = Optional(name);
        if (v is null) return defaultValue;
        if (int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int i) && i >= min) return i;
        throw new CompressBuildException(ErrorCodes.Usage, $"--{name} '{v}' must be an integer >= {min}.");
    }

    /// <summary>Parses "0.5" or a fraction like "1/255" (invariant culture).</summary>
    public static bool TryParseNumber(string text, out double value)
    {
        int slash = text.IndexOf('/');
        if (slash > 0
            && double.TryParse(text[..slash], NumberStyles.Float, CultureInfo.InvariantCulture, out double num)
            && double.TryParse(text[(slash + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out double den) && den != 0)
        {
            value = num / den;
            return true;
        }
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);
    }
}
