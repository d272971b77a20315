using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.NN;

/// <summary>
/// Resize: nearest, N-linear or N-cubic resampling of the resized axes, each output coordinate
/// mapped to the input by coordinate_transformation_mode. Opset 10: inputs X, scales; modes
/// nearest/linear with asymmetric coordinates (nearest rounds as ONNX Runtime: ceil when
/// downsampling, floor otherwise). Opset 11: inputs X, roi, scales, sizes (scales empty when sizes
/// is used); attributes coordinate_transformation_mode (half_pixel, asymmetric, pytorch_half_pixel,
/// tf_half_pixel_for_nn, align_corners, tf_crop_and_resize with extrapolation_value),
/// nearest_mode, cubic_coeff_a, exclude_outside. Opset 13: roi and scales optional,
/// tf_half_pixel_for_nn removed. Opset 18: axes,
/// antialias (linear/cubic filters widened by 1/scale when downsampling) and
/// keep_aspect_ratio_policy (stretch, not_larger, not_smaller). Output sizes are floor(in × scale)
/// or sizes. With scales, align_corners, pytorch_half_pixel and tf_crop_and_resize use scale × in
/// as the resized length, as the ONNX reference and its test data do (ONNX Runtime uses the
/// integral output size; they differ when scale × in is not a whole number). Nearest works for every numeric type; linear and cubic compute in float (double for
/// double). Gradient: X, for float in every mode.
/// </summary>
[OnnxOperator("Resize", MinOpset = 10)]
internal sealed class Resize : OpKernel
{
    private enum AspectPolicy
    {
        Stretch,
        NotLarger,
        NotSmaller,
    }

    /// <summary>How one axis is resized: sizes, scale, and the geometry of its coordinate mapping.</summary>
    private readonly record struct AxisSpec(int In, int Out, float Scale, float LengthResized, float RoiStart, float RoiEnd);

    private sealed record Pass(int Axis, int[] InShape, AxisResampling Plan);

    private readonly ResizeSettings _settings;
    private readonly float _extrapolation;
    private readonly long[]? _axes;
    private readonly AspectPolicy _policy;
    private readonly int _roiInput;
    private readonly int _scalesInput;
    private readonly int _sizesInput;

    public Resize(NodeContext ctx) : base(ctx)
    {
        string mode = ctx.String("mode", "nearest");
        var m = mode switch
        {
            "nearest" => ResizeMode.Nearest,
            "linear" => ResizeMode.Linear,
            "cubic" when ctx.Opset >= 11 => ResizeMode.Cubic,
            _ => throw ctx.Invalid($"mode '{mode}' must be {(ctx.Opset >= 11 ? "nearest, linear or cubic" : "nearest or linear in opset 10")}"),
        };
        if (ctx.Opset < 11)
        {
            _settings = new ResizeSettings(m, ResizeCoordinateMode.Asymmetric, ResizeNearestMode.Simple, -0.75, false, false);
            (_roiInput, _scalesInput, _sizesInput) = (-1, 1, -1);
            return;
        }
        (_roiInput, _scalesInput, _sizesInput) = (1, 2, 3);
        string coord = ctx.String("coordinate_transformation_mode", "half_pixel");
        var c = coord switch
        {
            "half_pixel" => ResizeCoordinateMode.HalfPixel,
            "asymmetric" => ResizeCoordinateMode.Asymmetric,
            "pytorch_half_pixel" => ResizeCoordinateMode.PytorchHalfPixel,
            // Opsets 11–12 only (removed in 13); tf_half_pixel_for_nearest is accepted as a descriptive alias.
            "tf_half_pixel_for_nn" or "tf_half_pixel_for_nearest" when ctx.Opset < 13 => ResizeCoordinateMode.TfHalfPixelForNearest,
            "tf_half_pixel_for_nn" or "tf_half_pixel_for_nearest" => throw ctx.Invalid($"coordinate_transformation_mode '{coord}' was removed in opset 13"),
            "align_corners" => ResizeCoordinateMode.AlignCorners,
            "tf_crop_and_resize" => ResizeCoordinateMode.TfCropAndResize,
            "half_pixel_symmetric" => throw ctx.Invalid("coordinate_transformation_mode 'half_pixel_symmetric' needs opset 19, which CompressBuild does not support yet"),
            _ => throw ctx.Invalid($"coordinate_transformation_mode '{coord}' is not one of half_pixel, asymmetric, pytorch_half_pixel, tf_half_pixel_for_nearest, align_corners, tf_crop_and_resize"),
        };
        string nearest = ctx.String("nearest_mode", "round_prefer_floor");
        var n = nearest switch
        {
            "round_prefer_floor" => ResizeNearestMode.RoundPreferFloor,
            "round_prefer_ceil" => ResizeNearestMode.RoundPreferCeil,
            "floor" => ResizeNearestMode.Floor,
            "ceil" => ResizeNearestMode.Ceil,
            _ => throw ctx.Invalid($"nearest_mode '{nearest}' is not one of round_prefer_floor, round_prefer_ceil, floor, ceil"),
        };
        bool exclude = Flag(ctx, "exclude_outside");
        _extrapolation = ctx.Float("extrapolation_value", 0f);
        bool antialias = false;
        if (ctx.Opset >= 18)
        {
            antialias = Flag(ctx, "antialias");
            _axes = ctx.Ints("axes");
            string policy = ctx.String("keep_aspect_ratio_policy", "stretch");
            _policy = policy switch
            {
                "stretch" => AspectPolicy.Stretch,
                "not_larger" => AspectPolicy.NotLarger,
                "not_smaller" => AspectPolicy.NotSmaller,
                _ => throw ctx.Invalid($"keep_aspect_ratio_policy '{policy}' is not one of stretch, not_larger, not_smaller"),
            };
        }
        else
        {
            foreach (var a in new[] { "antialias", "axes", "keep_aspect_ratio_policy" })
                if (ctx.Has(a)) throw ctx.Invalid($"attribute '{a}' exists from opset 18");
        }
        _settings = new ResizeSettings(m, c, n, ctx.Float("cubic_coeff_a", -0.75f), exclude, antialias);
    }

    private static bool Flag(NodeContext ctx, string name)
    {
        long v = ctx.Int(name, 0);
        if (v is not (0 or 1)) throw ctx.Invalid($"{name} {v} must be 0 or 1");
        return v == 1;
    }

    public override void InferShapes(ShapeContext ctx)
    {
        var x = ctx.InputShape(0);
        if (!DataTypes.IsSupported(ctx.InputType(0)) || ctx.InputType(0) is DataType.String or DataType.Bool) throw TypeError(ctx.InputType(0));
        bool hasScales = Given(ctx, _scalesInput), hasSizes = Given(ctx, _sizesInput);
        if (hasScales == hasSizes)
            throw ctx.Error(hasScales ? "only one of scales and sizes may be given" : "one of scales and sizes must be given");
        var axes = Axes(x.Length, ctx.Error);
        var y = (Dim[])x.Clone();
        if (hasSizes)
        {
            if (ctx.InputType(_sizesInput) != DataType.Int64) throw TypeError(ctx.InputType(_sizesInput), "sizes element type");
            var sizes = ctx.InputElements(_sizesInput) ?? Dim.FromShape(ctx.RequireConstantInts(_sizesInput).Select(v => checked((int)v)).ToArray());
            if (sizes.Length != axes.Length) throw ctx.Error($"sizes has {sizes.Length} elements, expected {axes.Length}");
            if (_policy == AspectPolicy.Stretch)
            {
                for (int k = 0; k < axes.Length; k++) y[axes[k]] = sizes[k];
            }
            else
            {
                // The kept aspect ratio depends on the actual sizes.
                var specs = Specs(Dim.ToShape(x), null, Tensor.Int64Vector(Dim.ToShape(sizes).Select(v => (long)v).ToArray()), null, ctx.Error);
                y = Dim.FromShape(specs.Select(s => s.Out).ToArray());
            }
        }
        else
        {
            var value = ctx.InputValue(_scalesInput)
                ?? throw new UnresolvedDimException($"input '{Node.Inputs[_scalesInput]}' (scales) of Resize must be a constant to know the output shape");
            var scales = Scales(value, axes.Length, ctx.Error);
            for (int k = 0; k < axes.Length; k++)
            {
                int a = axes[k];
                if (scales[k] == 1f) continue;
                if (!x[a].IsKnown) throw ctx.Error($"axis {a} has symbolic size {x[a]}; Resize can only keep it (scale 1), the scale is {scales[k].ToString(System.Globalization.CultureInfo.InvariantCulture)}");
                y[a] = ScaledSize(x[a].Known, scales[k]);
            }
        }
        ctx.SetOutput(0, ctx.InputType(0), y);
    }

    /// <summary>True when optional input i is present and not empty.</summary>
    private static bool Given(ShapeContext ctx, int i)
    {
        if (i < 0 || !ctx.HasInput(i)) return false;
        if (ctx.InputValue(i) is { } v) return v.Length > 0;
        return ctx.Input(i).Shape is not { } s || Dim.Product(s) != Dim.Of(0);
    }

    /// <summary>floor(in × scale), in float arithmetic as ONNX's shape inference and ONNX Runtime.</summary>
    private static int ScaledSize(int size, float scale) => checked((int)MathF.Floor(size * scale));

    private int[] Axes(int rank, Func<string, CompressBuildException> error)
    {
        if (_axes is null) return Enumerable.Range(0, rank).ToArray();
        var axes = new int[_axes.Length];
        for (int k = 0; k < axes.Length; k++)
        {
            long a = _axes[k] < 0 ? _axes[k] + rank : _axes[k];
            if (a < 0 || a >= rank) throw error($"axis {_axes[k]} is out of range for rank {rank}");
            if (axes.AsSpan(0, k).Contains((int)a)) throw error($"axis {_axes[k]} is repeated in axes");
            axes[k] = (int)a;
        }
        return axes;
    }

    private static float[] Scales(Tensor value, int count, Func<string, CompressBuildException> error)
    {
        if (value.Length != count) throw error($"scales has {value.Length} elements, expected {count}");
        var scales = new float[count];
        for (int k = 0; k < count; k++)
        {
            scales[k] = (float)value.GetDouble(k);
            if (!(scales[k] > 0f)) throw error($"scales[{k}] = {scales[k].ToString(System.Globalization.CultureInfo.InvariantCulture)} must be positive");
        }
        return scales;
    }

    /// <summary>Per-axis sizes, scales and roi from concrete inputs (axes not resized keep scale 1).</summary>
    private AxisSpec[] Specs(int[] shape, Tensor? scales, Tensor? sizes, Tensor? roi, Func<string, CompressBuildException> error)
    {
        int r = shape.Length;
        var axes = Axes(r, error);
        var specs = new AxisSpec[r];
        for (int a = 0; a < r; a++) specs[a] = new AxisSpec(shape[a], shape[a], 1f, shape[a], 0f, 1f);
        var starts = new float[axes.Length];
        var ends = new float[axes.Length];
        Array.Fill(ends, 1f);
        if (roi is not null && roi.Length > 0)
        {
            if (roi.Length != 2 * axes.Length) throw error($"roi has {roi.Length} elements, expected {2 * axes.Length}");
            for (int k = 0; k < axes.Length; k++)
            {
                starts[k] = (float)roi.GetDouble(k);
                ends[k] = (float)roi.GetDouble(axes.Length + k);
            }
        }
        if (sizes is not null)
        {
            var s = sizes.ToInt64Array();
            if (s.Length != axes.Length) throw error($"sizes has {s.Length} elements, expected {axes.Length}");
            for (int k = 0; k < axes.Length; k++)
                if (s[k] < 0) throw error($"sizes[{k}] = {s[k]} must not be negative");
            if (_policy == AspectPolicy.Stretch)
            {
                for (int k = 0; k < axes.Length; k++)
                {
                    int a = axes[k];
                    int o = checked((int)s[k]);
                    specs[a] = new AxisSpec(shape[a], o, (float)o / shape[a], o, starts[k], ends[k]);
                }
                return specs;
            }
            // One scale for every resized axis: the largest that fits (not_larger) or covers (not_smaller).
            float scale = _policy == AspectPolicy.NotLarger ? float.PositiveInfinity : 0f;
            for (int k = 0; k < axes.Length; k++)
            {
                float q = (float)s[k] / shape[axes[k]];
                scale = _policy == AspectPolicy.NotLarger ? MathF.Min(scale, q) : MathF.Max(scale, q);
            }
            for (int k = 0; k < axes.Length; k++)
            {
                int a = axes[k];
                specs[a] = new AxisSpec(shape[a], checked((int)(scale * shape[a] + 0.5f)), scale, scale * shape[a], starts[k], ends[k]);
            }
            return specs;
        }
        var f = Scales(scales!, axes.Length, error);
        for (int k = 0; k < axes.Length; k++)
        {
            int a = axes[k];
            specs[a] = new AxisSpec(shape[a], ScaledSize(shape[a], f[k]), f[k], f[k] * shape[a], starts[k], ends[k]);
        }
        return specs;
    }

    private static Tensor? NonEmpty(Tensor? t) => t is { Length: > 0 } ? t : null;

    public override void Forward(ForwardContext ctx)
    {
        var x = ctx.Input(0);
        var specs = Specs(x.Shape,
            NonEmpty(ctx.OptionalInput(_scalesInput)),
            _sizesInput >= 0 ? NonEmpty(ctx.OptionalInput(_sizesInput)) : null,
            _roiInput >= 0 ? NonEmpty(ctx.OptionalInput(_roiInput)) : null,
            ShapeError);
        var passes = Plan(x.Shape, specs);
        if (ctx.Recording) ctx.Saved = passes;
        if (passes.Count == 0)
        {
            ctx.SetOutput(0, x);
            return;
        }
        var y = ctx.Output(0);
        int threads = ctx.Options.MaxDegreeOfParallelism;
        if (_settings.Mode == ResizeMode.Nearest)
        {
            Run(x.Data, y.Data, passes, (src, dst, outer, inner, p) => Gather(x.DataType, src, dst, outer, inner, p, threads));
            return;
        }
        switch (x.DataType)
        {
            case DataType.Float:
                Run(x.Data, y.Data, passes, (src, dst, outer, inner, p) =>
                    ResamplePass.Interpolate((float[])src, (float[])dst, outer, inner, p, _extrapolation, threads));
                break;
            case DataType.Double:
                Run(x.Data, y.Data, passes, (src, dst, outer, inner, p) =>
                    ResamplePass.Interpolate((double[])src, (double[])dst, outer, inner, p, (double)_extrapolation, threads));
                break;
            default:
                // Other element types are resampled in float and converted back.
                var yf = new float[y.Length];
                Run(ToFloats(x), yf, passes, (src, dst, outer, inner, p) =>
                    ResamplePass.Interpolate((float[])src, (float[])dst, outer, inner, p, _extrapolation, threads));
                FromFloats(yf, y);
                break;
        }
    }

    /// <summary>The 1-D passes of this resize: non-identity axes, shrinking ones first to keep intermediates small.</summary>
    private List<Pass> Plan(int[] shape, AxisSpec[] specs)
    {
        var passes = new List<Pass>();
        var current = (int[])shape.Clone();
        var order = Enumerable.Range(0, specs.Length)
            .OrderBy(a => specs[a].In == 0 ? 1.0 : (double)specs[a].Out / specs[a].In)
            .ThenBy(a => a);
        foreach (int a in order)
        {
            var s = specs[a];
            // Unscaled axes are copied even where the coordinate formula would move them
            // (tf_half_pixel_for_nn maps x to x + 0.5), as ONNX Runtime does; a crop still applies.
            if (s.Scale == 1f && s.In == s.Out && _settings.Coordinates != ResizeCoordinateMode.TfCropAndResize) continue;
            if (s.In == 0 || s.Out == 0)
            {
                if (s.In == s.Out) continue;
                // Nothing to interpolate: an empty output (or an empty input with an empty result).
                if (s.Out > 0) throw ShapeError($"axis {a} of size 0 cannot be resized to {s.Out}");
            }
            var plan = AxisResampling.Create(_settings, s.In, s.Out, s.Scale, s.LengthResized, s.RoiStart, s.RoiEnd);
            if (plan.IsIdentity) continue;
            passes.Add(new Pass(a, (int[])current.Clone(), plan));
            current[a] = s.Out;
        }
        return passes;
    }

    private delegate void PassBody(Array src, Array dst, int outer, int inner, AxisResampling plan);

    private static void Run(Array x, Array y, List<Pass> passes, PassBody body)
    {
        var src = x;
        for (int i = 0; i < passes.Count; i++)
        {
            var (outer, inner) = OuterInner(passes[i]);
            int count = outer * passes[i].Plan.OutSize * inner;
            var dst = i == passes.Count - 1 ? y : Array.CreateInstance(x.GetType().GetElementType()!, count);
            body(src, dst, outer, inner, passes[i].Plan);
            src = dst;
        }
    }

    private static (int Outer, int Inner) OuterInner(Pass p)
    {
        int outer = 1, inner = 1;
        for (int d = 0; d < p.Axis; d++) outer *= p.InShape[d];
        for (int d = p.Axis + 1; d < p.InShape.Length; d++) inner *= p.InShape[d];
        return (outer, inner);
    }

    // Dispatch on the element type, not the array's runtime type: the CLR lets a byte[] pass as sbyte[].
    private void Gather(DataType type, Array src, Array dst, int outer, int inner, AxisResampling p, int threads)
    {
        float e = _extrapolation;
        switch (type)
        {
            case DataType.Float: G(e); break;
            case DataType.Double: G((double)e); break;
            case DataType.Float16: G((Half)e); break;
            case DataType.BFloat16: G((BFloat16)e); break;
            case DataType.Int64: G(long.CreateSaturating(e)); break;
            case DataType.Int32: G(int.CreateSaturating(e)); break;
            case DataType.Int16: G(short.CreateSaturating(e)); break;
            case DataType.Int8: G(sbyte.CreateSaturating(e)); break;
            case DataType.UInt64: G(ulong.CreateSaturating(e)); break;
            case DataType.UInt32: G(uint.CreateSaturating(e)); break;
            case DataType.UInt16: G(ushort.CreateSaturating(e)); break;
            case DataType.UInt8: G(byte.CreateSaturating(e)); break;
            default: throw TypeError(type);
        }

        void G<T>(T extrapolation) => ResamplePass.Gather((T[])src, (T[])dst, outer, inner, p, extrapolation, threads);
    }

    private float[] ToFloats(Tensor x) => x.DataType switch
    {
        DataType.Float16 => Array.ConvertAll((Half[])x.Data, v => (float)v),
        DataType.BFloat16 => Array.ConvertAll((BFloat16[])x.Data, v => (float)v),
        DataType.Int64 => Array.ConvertAll((long[])x.Data, v => (float)v),
        DataType.Int32 => Array.ConvertAll((int[])x.Data, v => (float)v),
        DataType.Int16 => Array.ConvertAll((short[])x.Data, v => (float)v),
        DataType.Int8 => Array.ConvertAll((sbyte[])x.Data, v => (float)v),
        DataType.UInt64 => Array.ConvertAll((ulong[])x.Data, v => (float)v),
        DataType.UInt32 => Array.ConvertAll((uint[])x.Data, v => (float)v),
        DataType.UInt16 => Array.ConvertAll((ushort[])x.Data, v => (float)v),
        DataType.UInt8 => Array.ConvertAll((byte[])x.Data, v => (float)v),
        _ => throw TypeError(x.DataType),
    };

    /// <summary>Writes float results into a tensor of another element type (integers truncate toward zero and saturate, as ONNX Runtime and the ONNX reference cast).</summary>
    private void FromFloats(float[] src, Tensor dst)
    {
        switch (dst.DataType)
        {
            case DataType.Float16:
                var h = (Half[])dst.Data;
                for (int i = 0; i < h.Length; i++) h[i] = (Half)src[i];
                break;
            case DataType.BFloat16:
                var bf = (BFloat16[])dst.Data;
                for (int i = 0; i < bf.Length; i++) bf[i] = (BFloat16)src[i];
                break;
            case DataType.Int64: ToIntegers(src, (long[])dst.Data); break;
            case DataType.Int32: ToIntegers(src, (int[])dst.Data); break;
            case DataType.Int16: ToIntegers(src, (short[])dst.Data); break;
            case DataType.Int8: ToIntegers(src, (sbyte[])dst.Data); break;
            case DataType.UInt64: ToIntegers(src, (ulong[])dst.Data); break;
            case DataType.UInt32: ToIntegers(src, (uint[])dst.Data); break;
            case DataType.UInt16: ToIntegers(src, (ushort[])dst.Data); break;
            case DataType.UInt8: ToIntegers(src, (byte[])dst.Data); break;
            default: throw TypeError(dst.DataType);
        }
    }

    private static void ToIntegers<T>(float[] src, T[] dst) where T : System.Numerics.IBinaryInteger<T>
    {
        for (int i = 0; i < dst.Length; i++) dst[i] = T.CreateSaturating(src[i]);
    }

    public override bool IsDifferentiable => true;

    public override bool IsDifferentiableInput(int index) => index == 0;

    public override void Backward(BackwardContext ctx)
    {
        var passes = (List<Pass>)(ctx.Saved ?? throw new InvalidOperationException("the forward pass was not recorded"));
        var dy = ctx.OutputGrad(0)!;
        if (passes.Count == 0)
        {
            ctx.SetInputGrad(0, dy);
            return;
        }
        int threads = ctx.Options.MaxDegreeOfParallelism;
        var grad = dy.Floats;
        for (int i = passes.Count - 1; i >= 0; i--)
        {
            var (outer, inner) = OuterInner(passes[i]);
            var dsrc = new float[outer * passes[i].Plan.InSize * inner];
            ResamplePass.Transpose(grad, dsrc, outer, inner, passes[i].Plan, threads);
            grad = dsrc;
        }
        ctx.SetInputGrad(0, Tensor.FromArray(grad, ctx.Input(0).Shape));
    }
}
