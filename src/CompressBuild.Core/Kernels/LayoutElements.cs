using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CompressBuild.Core.Kernels;

/// <summary>
/// A data-movement kernel written once as a generic method; <see cref="LayoutElements.Dispatch"/>
/// calls it with a stand-in element type of the right size.
/// </summary>
internal interface IElementJob
{
    /// <summary>Runs the job with elements viewed as <typeparamref name="T"/> (see <see cref="LayoutElements.Of{T}"/>).</summary>
    void Run<T>();
}

/// <summary>
/// Lets layout kernels (transpose, slice, gather, concat...) move elements of every ONNX type while
/// being compiled only once per element size: a float tensor is moved as <c>uint</c>s, a double as
/// <c>ulong</c>s, a bool as <c>byte</c>s; strings are moved as references.
/// </summary>
internal static class LayoutElements
{
    /// <summary>Runs <paramref name="job"/> with the stand-in element type of <paramref name="data"/>'s element size.</summary>
    public static void Dispatch<TJob>(Array data, TJob job) where TJob : struct, IElementJob
    {
        if (data is string[])
        {
            job.Run<string>();
            return;
        }
        switch (ElementSize(data))
        {
            case 1: job.Run<byte>(); break;
            case 2: job.Run<ushort>(); break;
            case 4: job.Run<uint>(); break;
            case 8: job.Run<ulong>(); break;
            default: throw new NotSupportedException($"{data.GetType().Name} elements cannot be moved by layout kernels");
        }
    }

    /// <summary>
    /// The elements of <paramref name="data"/> as a span of <typeparamref name="T"/>, which must be the
    /// array's own element type or an unmanaged type of the same size.
    /// </summary>
    public static Span<T> Of<T>(Array data)
    {
        if (data is T[] exact) return exact;
        if (RuntimeHelpers.IsReferenceOrContainsReferences<T>() || data is string[] || ElementSize(data) != Unsafe.SizeOf<T>())
            throw new InvalidOperationException($"cannot view {data.GetType().Name} as {typeof(T).Name}[]");
        return MemoryMarshal.CreateSpan(ref Unsafe.As<byte, T>(ref MemoryMarshal.GetArrayDataReference(data)), data.Length);
    }

    private static int ElementSize(Array data) => data switch
    {
        float[] or int[] or uint[] => 4,
        double[] or long[] or ulong[] => 8,
        Half[] or BFloat16[] or short[] or ushort[] => 2,
        byte[] or sbyte[] or bool[] => 1,
        _ => 0,
    };
}
