using System.Globalization;
using CompressBuild.Onnx;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CompressBuild.TestSupport;

/// <summary>Element-wise comparisons of tensors with stated tolerances.</summary>
public static class Numerics
{
    /// <summary>
    /// Asserts same type, shape and |actual - expected| &lt;= atol + rtol * |expected| everywhere
    /// (NaN matches NaN, infinities must match exactly).
    /// </summary>
    public static void AssertClose(Tensor expected, Tensor actual, double rtol, double atol, string what = "output")
    {
        string? problem = Compare(expected, actual, rtol, atol);
        if (problem is not null) Assert.Fail($"{what}: {problem}");
    }

    /// <summary>Null when close (see <see cref="AssertClose"/>), else a description of the first difference.</summary>
    public static string? Compare(Tensor expected, Tensor actual, double rtol, double atol)
    {
        if (!ShapeMath.SameShape(expected.Shape, actual.Shape))
            return $"shape [{ShapeMath.Format(actual.Shape)}], expected [{ShapeMath.Format(expected.Shape)}]";
        if (expected.DataType != actual.DataType)
            return $"type {DataTypes.OnnxName(actual.DataType)}, expected {DataTypes.OnnxName(expected.DataType)}";
        if (expected.DataType == DataType.String)
        {
            var e = expected.ArrayOf<string>();
            var a = actual.ArrayOf<string>();
            for (int i = 0; i < e.Length; i++)
                if (e[i] != a[i]) return $"element {i} is \"{a[i]}\", expected \"{e[i]}\"";
            return null;
        }
        int bad = 0;
        int first = -1;
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected.GetDouble(i), a = actual.GetDouble(i);
            bool ok = double.IsNaN(e) ? double.IsNaN(a)
                : double.IsInfinity(e) ? e == a
                : Math.Abs(a - e) <= atol + rtol * Math.Abs(e);
            if (!ok)
            {
                if (first < 0) first = i;
                bad++;
                worst = Math.Max(worst, Math.Abs(a - e));
            }
        }
        if (bad == 0) return null;
        return string.Create(CultureInfo.InvariantCulture,
            $"{bad} of {expected.Length} elements differ (rtol {rtol}, atol {atol}); first at {first}: {actual.GetDouble(first):R} vs expected {expected.GetDouble(first):R}; max abs diff {worst:G4}");
    }

    /// <summary>Largest absolute difference between two float tensors of the same shape.</summary>
    public static double MaxAbsDiff(Tensor a, Tensor b)
    {
        Assert.IsTrue(ShapeMath.SameShape(a.Shape, b.Shape), $"shapes differ: [{ShapeMath.Format(a.Shape)}] vs [{ShapeMath.Format(b.Shape)}]");
        double m = 0;
        for (int i = 0; i < a.Length; i++) m = Math.Max(m, Math.Abs(a.GetDouble(i) - b.GetDouble(i)));
        return m;
    }

    /// <summary>Index of the largest element of each row of a [n, classes] float tensor.</summary>
    public static int[] ArgMaxRows(Tensor logits)
    {
        int n = logits.Shape[0], c = logits.Length / Math.Max(n, 1);
        var f = logits.Floats;
        var r = new int[n];
        for (int i = 0; i < n; i++)
        {
            int best = 0;
            for (int j = 1; j < c; j++)
                if (f[i * c + j] > f[i * c + best]) best = j;
            r[i] = best;
        }
        return r;
    }

    /// <summary>Top-1 accuracy of logits against labels.</summary>
    public static double Top1(Tensor logits, long[] labels)
    {
        var p = ArgMaxRows(logits);
        int ok = 0;
        for (int i = 0; i < p.Length; i++)
            if (p[i] == labels[i]) ok++;
        return (double)ok / p.Length;
    }

    /// <summary>Fraction of rows of two [n, classes] logit tensors whose argmax agree.</summary>
    public static double ArgMaxAgreement(Tensor a, Tensor b)
    {
        var pa = ArgMaxRows(a);
        var pb = ArgMaxRows(b);
        int same = 0;
        for (int i = 0; i < pa.Length; i++)
            if (pa[i] == pb[i]) same++;
        return (double)same / pa.Length;
    }
}
