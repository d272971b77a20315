using System.Globalization;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace CompressBuild.Core.Operators.Elementwise;

/// <summary>
/// Element type conversions with C cast semantics (Cast, and the float bridge that lets float16 and
/// bfloat16 be computed in float): floats to integers truncate toward zero (out-of-range values
/// saturate, NaN becomes 0), integers narrow by wrapping, anything to bool is "not zero", bfloat16
/// rounds to nearest even. Numbers print like numpy's str() and strings parse "NaN", "INF", "+INF",
/// "-INF" case-insensitively.
/// </summary>
internal static class ElementConversion
{
    /// <summary><paramref name="src"/> converted to <paramref name="to"/> (the same tensor when the type already matches).</summary>
    /// <exception cref="FormatException">A string is not a number.</exception>
    public static Tensor Convert(Tensor src, DataType to)
    {
        if (src.DataType == to) return src;
        var dst = Tensor.Allocate(to, src.Shape);
        if (to == DataType.String)
        {
            ToStrings(src, dst.ArrayOf<string>());
            return dst;
        }
        // Dispatch on the declared type: the CLR lets a byte[] pass as sbyte[] (and uint[] as int[]),
        // so pattern matching on the array would misread unsigned data.
        switch (src.DataType)
        {
            case DataType.Float: From<float>(src.Floats, dst); break;
            case DataType.Double: From<double>(src.ArrayOf<double>(), dst); break;
            case DataType.Float16: From<Half>(src.ArrayOf<Half>(), dst); break;
            case DataType.BFloat16: From<float>(ToFloats(src), dst); break;
            case DataType.Int8: From<sbyte>(src.ArrayOf<sbyte>(), dst); break;
            case DataType.UInt8: From<byte>(src.ArrayOf<byte>(), dst); break;
            case DataType.Int16: From<short>(src.ArrayOf<short>(), dst); break;
            case DataType.UInt16: From<ushort>(src.ArrayOf<ushort>(), dst); break;
            case DataType.Int32: From<int>(src.ArrayOf<int>(), dst); break;
            case DataType.UInt32: From<uint>(src.ArrayOf<uint>(), dst); break;
            case DataType.Int64: From<long>(src.ArrayOf<long>(), dst); break;
            case DataType.UInt64: From<ulong>(src.ArrayOf<ulong>(), dst); break;
            case DataType.Bool: From<byte>(MemoryMarshal.Cast<bool, byte>(src.ArrayOf<bool>()), dst); break;
            case DataType.String: FromStrings(src.ArrayOf<string>(), dst); break;
            default: throw new InvalidOperationException($"cannot convert {DataTypes.OnnxName(src.DataType)}");
        }
        return dst;
    }

    /// <summary>The elements of a float, float16, bfloat16 or double tensor as floats (float tensors are not copied).</summary>
    public static float[] ToFloats(Tensor t)
    {
        switch (t.Data)
        {
            case float[] f:
                return f;
            case Half[] h:
            {
                var r = new float[h.Length];
                TensorPrimitives.ConvertToSingle(h, r);
                return r;
            }
            case BFloat16[] b:
            {
                var r = new float[b.Length];
                for (int i = 0; i < r.Length; i++) r[i] = (float)b[i];
                return r;
            }
            default:
                return Convert(t, DataType.Float).Floats;
        }
    }

    /// <summary>Stores floats into a float, float16, bfloat16 or double tensor (rounding to nearest even).</summary>
    public static void StoreFloats(ReadOnlySpan<float> src, Tensor dst)
    {
        switch (dst.Data)
        {
            case float[] f: src.CopyTo(f); break;
            case Half[] h: TensorPrimitives.ConvertToHalf(src, h); break;
            case BFloat16[] b:
                for (int i = 0; i < b.Length; i++) b[i] = (BFloat16)src[i];
                break;
            case double[] d: TensorPrimitives.ConvertTruncating(src, d.AsSpan()); break;
            default: throw new InvalidOperationException($"{DataTypes.OnnxName(dst.DataType)} is not a float type");
        }
    }

    private static void From<TFrom>(ReadOnlySpan<TFrom> s, Tensor dst) where TFrom : unmanaged, INumberBase<TFrom>
    {
        switch (dst.DataType)
        {
            case DataType.Float: TensorPrimitives.ConvertTruncating(s, dst.ArrayOf<float>().AsSpan()); break;
            case DataType.Double: TensorPrimitives.ConvertTruncating(s, dst.ArrayOf<double>().AsSpan()); break;
            case DataType.Float16: TensorPrimitives.ConvertTruncating(s, dst.ArrayOf<Half>().AsSpan()); break;
            case DataType.Int8: TensorPrimitives.ConvertTruncating(s, dst.ArrayOf<sbyte>().AsSpan()); break;
            case DataType.UInt8: TensorPrimitives.ConvertTruncating(s, dst.ArrayOf<byte>().AsSpan()); break;
            case DataType.Int16: TensorPrimitives.ConvertTruncating(s, dst.ArrayOf<short>().AsSpan()); break;
            case DataType.UInt16: TensorPrimitives.ConvertTruncating(s, dst.ArrayOf<ushort>().AsSpan()); break;
            case DataType.Int32: TensorPrimitives.ConvertTruncating(s, dst.ArrayOf<int>().AsSpan()); break;
            case DataType.UInt32: TensorPrimitives.ConvertTruncating(s, dst.ArrayOf<uint>().AsSpan()); break;
            case DataType.Int64: TensorPrimitives.ConvertTruncating(s, dst.ArrayOf<long>().AsSpan()); break;
            case DataType.UInt64: TensorPrimitives.ConvertTruncating(s, dst.ArrayOf<ulong>().AsSpan()); break;
            case DataType.BFloat16:
            {
                var d = dst.ArrayOf<BFloat16>();
                for (int i = 0; i < d.Length; i++) d[i] = (BFloat16)float.CreateTruncating(s[i]);
                break;
            }
            case DataType.Bool:
            {
                // C's rule: anything but zero is true (NaN included).
                var d = dst.ArrayOf<bool>();
                for (int i = 0; i < d.Length; i++) d[i] = !TFrom.IsZero(s[i]);
                break;
            }
            default: throw new InvalidOperationException($"cannot convert to {DataTypes.OnnxName(dst.DataType)}");
        }
    }

    private static void ToStrings(Tensor src, string[] d)
    {
        var inv = CultureInfo.InvariantCulture;
        switch (src.Data)
        {
            case float[] a:
                for (int i = 0; i < d.Length; i++) d[i] = FormatReal(a[i], a[i].ToString("R", inv));
                break;
            case double[] a:
                for (int i = 0; i < d.Length; i++) d[i] = FormatReal(a[i], a[i].ToString("R", inv));
                break;
            case Half[] a:
                for (int i = 0; i < d.Length; i++) d[i] = FormatReal((double)a[i], a[i].ToString(inv));
                break;
            case BFloat16[] a:
                for (int i = 0; i < d.Length; i++) d[i] = FormatReal((float)a[i], ((float)a[i]).ToString("R", inv));
                break;
            case bool[] a:
                for (int i = 0; i < d.Length; i++) d[i] = a[i] ? "1" : "0";
                break;
            case string[] a:
                a.CopyTo(d, 0);
                break;
            default:
                // Integers: exact decimal text.
                for (int i = 0; i < d.Length; i++) d[i] = ((IFormattable)src.Data.GetValue(i)!).ToString(null, inv);
                break;
        }
    }

    /// <summary>
    /// numpy's str() of a float from its shortest round-trip text: positional with at least one
    /// fractional digit for 1e-4 &lt;= |v| &lt; 1e16 ("0.039187793", "100.0"), otherwise scientific
    /// with a two-digit exponent ("1e-05", "3.4e+38"). NaN and infinities use ONNX's literals.
    /// </summary>
    private static string FormatReal(double v, string roundTrip)
    {
        if (double.IsNaN(v)) return "NaN";
        if (double.IsInfinity(v)) return v > 0 ? "INF" : "-INF";
        string s = roundTrip;
        bool negative = s.StartsWith('-');
        if (negative) s = s[1..];
        int e = s.IndexOfAny(['E', 'e']);
        int exponent = e >= 0 ? int.Parse(s[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture) : 0;
        string mantissa = e >= 0 ? s[..e] : s;
        int dot = mantissa.IndexOf('.');
        string digits = dot >= 0 ? mantissa.Remove(dot, 1) : mantissa;
        // The value is 0.<digits> × 10^point.
        int point = (dot >= 0 ? dot : mantissa.Length) + exponent;
        int lead = 0;
        while (lead < digits.Length && digits[lead] == '0') lead++;
        digits = digits[lead..].TrimEnd('0');
        point -= lead;
        string sign = negative ? "-" : "";
        if (digits.Length == 0) return sign + "0.0";
        double magnitude = Math.Abs(v);
        if (magnitude >= 1e-4 && magnitude < 1e16)
        {
            if (point <= 0) return sign + "0." + new string('0', -point) + digits;
            if (point >= digits.Length) return sign + digits + new string('0', point - digits.Length) + ".0";
            return sign + digits[..point] + "." + digits[point..];
        }
        int exp10 = point - 1;
        string m = digits.Length > 1 ? digits[0] + "." + digits[1..] : digits;
        return sign + m + "e" + (exp10 < 0 ? "-" : "+") + Math.Abs(exp10).ToString("00", CultureInfo.InvariantCulture);
    }

    private static void FromStrings(string[] s, Tensor dst)
    {
        int n = s.Length;
        switch (dst.DataType)
        {
            case DataType.Float:
            {
                var f = dst.Floats;
                for (int i = 0; i < n; i++) f[i] = ParseReal<float>(s[i]);
                break;
            }
            case DataType.Bool:
            {
                var b = dst.ArrayOf<bool>();
                for (int i = 0; i < n; i++)
                {
                    string t = s[i].Trim();
                    b[i] = t.Equals("true", StringComparison.OrdinalIgnoreCase)
                        || (!t.Equals("false", StringComparison.OrdinalIgnoreCase) && ParseReal<double>(t) != 0);
                }
                break;
            }
            case DataType.Double or DataType.Float16 or DataType.BFloat16:
            {
                var d = new double[n];
                for (int i = 0; i < n; i++) d[i] = ParseReal<double>(s[i]);
                From<double>(d, dst);
                break;
            }
            default:
            {
                // Integers parse exactly as 64-bit (unsigned 64-bit by its bits), then narrow like any integer.
                var l = new long[n];
                for (int i = 0; i < n; i++) l[i] = ParseInteger(s[i]);
                From<long>(l, dst);
                break;
            }
        }
    }

    private static T ParseReal<T>(string text) where T : IFloatingPointIeee754<T>
    {
        string t = text.Trim();
        string body = t.TrimStart('+', '-');
        bool negative = t.StartsWith('-');
        if (body.Equals("nan", StringComparison.OrdinalIgnoreCase)) return T.NaN;
        if (body.Equals("inf", StringComparison.OrdinalIgnoreCase) || body.Equals("infinity", StringComparison.OrdinalIgnoreCase))
            return negative ? T.NegativeInfinity : T.PositiveInfinity;
        return T.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
            ? v : throw new FormatException($"the string \"{text}\" is not a number");
    }

    private static long ParseInteger(string text)
    {
        string t = text.Trim();
        if (long.TryParse(t, NumberStyles.Integer, CultureInfo.InvariantCulture, out long l)) return l;
        if (ulong.TryParse(t, NumberStyles.Integer, CultureInfo.InvariantCulture, out ulong u)) return unchecked((long)u);
        // "2.5" → 2, as a C cast of the parsed value.
        return long.CreateSaturating(Math.Truncate(ParseReal<double>(t)));
    }
}
