using System;
using System.Collections.Generic;
using System.Linq;
using CompressBuild.Plan;

namespace CompressBuild.Generator.Ops
{
    /// <summary>Resize → <c>CompressBuild.Runtime.Resize</c>: one call per resized axis.</summary>
    internal static class ResizeOps
    {
        private const string R = StepLowering.Runtime;
        private const string Cast = "global::System.Runtime.InteropServices.MemoryMarshal.Cast";

        private sealed class Axis
        {
            public int Index, In, Out, RoiK = -1;
            public float Scale, LengthResized;
        }

        /// <summary>
        /// Resize (opsets 10+): nearest (every rounding mode, any numeric type), linear and cubic
        /// (float and double; other types are resized in float and converted back, as the engine),
        /// every coordinate_transformation_mode (tf_crop_and_resize with a constant or runtime roi
        /// and extrapolation_value), cubic_coeff_a, exclude_outside, and opset 18's antialias, axes
        /// and keep_aspect_ratio_policy. Scales or sizes must be constants.
        /// </summary>
        [Lowers("Resize")]
        public static StepLowering Resize(StepInfo s)
        {
            s.AllowOnly("mode", "coordinate_transformation_mode", "nearest_mode", "cubic_coeff_a", "exclude_outside", "extrapolation_value",
                "antialias", "axes", "keep_aspect_ratio_policy");
            string type = s.InputType(0);
            if (type == PlanTypes.Bool) throw s.Unsupported("Resize on bool");
            if (s.NnOutputType(0) != type) throw s.Unsupported($"output element type {s.NnOutputType(0)} differs from the input's {type}");
            var x = s.InShape(0);
            var y = s.OutShape(0);
            int rank = x.Length;
            if (y.Length != rank) throw s.Unsupported($"output {Lit.Shape(y)} and input {Lit.Shape(x)} have different ranks");
            bool opset10 = s.Opset < 11;
            string modeName = s.String("mode", "nearest");
            int mode = modeName switch
            {
                "nearest" => 0,
                "linear" => 1,
                "cubic" when !opset10 => 2,
                _ => throw s.Unsupported($"mode '{modeName}'"),
            };
            // Linear and cubic resizing of other types runs in float (converted in and out), as the engine's.
            bool convert = mode != 0 && type is not (PlanTypes.Float or PlanTypes.Double);
            int coordinates = 1, nearest = 4;
            float cubicA = -0.75f, extrapolation = 0f;
            bool exclude = false, antialias = false;
            long[]? axesAttr = null;
            string policy = "stretch";
            if (!opset10)
            {
                string coord = s.String("coordinate_transformation_mode", "half_pixel");
                coordinates = coord switch
                {
                    "half_pixel" => 0,
                    "asymmetric" => 1,
                    "pytorch_half_pixel" => 2,
                    "tf_half_pixel_for_nn" or "tf_half_pixel_for_nearest" when s.Opset < 13 => 3,
                    "align_corners" => 4,
                    "tf_crop_and_resize" => 5,
                    _ => throw s.Unsupported($"coordinate_transformation_mode '{coord}'"),
                };
                string nm = s.String("nearest_mode", "round_prefer_floor");
                nearest = nm switch
                {
                    "round_prefer_floor" => 0,
                    "round_prefer_ceil" => 1,
                    "floor" => 2,
                    "ceil" => 3,
                    _ => throw s.Unsupported($"nearest_mode '{nm}'"),
                };
                cubicA = s.Float("cubic_coeff_a", -0.75f);
                exclude = s.Int("exclude_outside", 0) != 0;
                extrapolation = s.Float("extrapolation_value", 0f);
                if (s.Opset >= 18)
                {
                    antialias = s.Int("antialias", 0) != 0;
                    axesAttr = s.Ints("axes");
                    policy = s.String("keep_aspect_ratio_policy", "stretch");
                    if (policy is not ("stretch" or "not_larger" or "not_smaller")) throw s.Unsupported($"keep_aspect_ratio_policy '{policy}'");
                }
            }
            int roiInput = opset10 ? -1 : 1, scalesInput = opset10 ? 1 : 2, sizesInput = opset10 ? -1 : 3;

            // Resized axes and their per-axis geometry, as the engine's Specs.
            int[] axes;
            if (axesAttr is null) axes = Enumerable.Range(0, rank).ToArray();
            else
            {
                axes = axesAttr.Select(a => (int)(a < 0 ? a + rank : a)).ToArray();
                if (axes.Any(a => a < 0 || a >= rank) || axes.Distinct().Count() != axes.Length) throw s.Unsupported($"axes [{string.Join(",", axesAttr)}]");
            }
            var specs = Enumerable.Range(0, rank).Select(a => new Axis { Index = a, In = x[a], Out = x[a], Scale = 1f, LengthResized = x[a] }).ToArray();
            bool Given(int i) => i >= 0 && s.HasInput(i) && Lit.Product(s.InShape(i)) > 0;
            bool hasScales = Given(scalesInput), hasSizes = Given(sizesInput);
            if (hasScales == hasSizes) throw s.Unsupported(hasScales ? "both scales and sizes" : "neither scales nor sizes");
            if (hasSizes)
            {
                var sizes = s.NnIntValue(sizesInput);
                if (sizes is null)
                {
                    if (policy != "stretch") throw s.Unsupported("keep_aspect_ratio_policy with sizes that are not a constant");
                    sizes = axes.Select(a => (long)y[a]).ToArray();
                }
                if (sizes.Length != axes.Length) throw s.Unsupported($"sizes has {sizes.Length} elements for {axes.Length} axes");
                if (policy == "stretch")
                {
                    for (int k = 0; k < axes.Length; k++)
                    {
                        var a = specs[axes[k]];
                        a.Out = checked((int)sizes[k]);
                        a.Scale = (float)a.Out / a.In;
                        a.LengthResized = a.Out;
                        a.RoiK = k;
                    }
                }
                else
                {
                    float scale = policy == "not_larger" ? float.PositiveInfinity : 0f;
                    for (int k = 0; k < axes.Length; k++)
                    {
                        float q = (float)sizes[k] / x[axes[k]];
                        scale = policy == "not_larger" ? Math.Min(scale, q) : Math.Max(scale, q);
                    }
                    for (int k = 0; k < axes.Length; k++)
                    {
                        var a = specs[axes[k]];
                        a.Out = checked((int)(float)(scale * a.In + 0.5f));
                        a.Scale = scale;
                        a.LengthResized = (float)(scale * a.In);
                        a.RoiK = k;
                    }
                }
            }
            else
            {
                var scales = s.NnFloatValue(scalesInput) ?? throw s.Unsupported("scales that are not a constant");
                if (scales.Length != axes.Length) throw s.Unsupported($"scales has {scales.Length} elements for {axes.Length} axes");
                for (int k = 0; k < axes.Length; k++)
                {
                    var a = specs[axes[k]];
                    if (!(scales[k] > 0f)) throw s.Unsupported($"scale {scales[k]}");
                    a.Scale = scales[k];
                    a.Out = checked((int)Math.Floor((float)(a.In * scales[k])));
                    a.LengthResized = (float)(scales[k] * a.In);
                    a.RoiK = k;
                }
            }
            for (int a = 0; a < rank; a++)
                if (specs[a].Out != y[a]) throw s.Unsupported($"the planned output {Lit.Shape(y)} does not follow from input {Lit.Shape(x)} and the scales/sizes");
            if (s.NnBatched && specs[0].Out != specs[0].In) throw s.Unsupported("resizing the batch axis (predictors run one sample at a time)");

            // Passes: shrinking axes first, as the engine.
            var passes = new List<Axis>();
            foreach (var a in specs.OrderBy(a => a.In == 0 ? 1.0 : (double)a.Out / a.In).ThenBy(a => a.Index))
            {
                if (a.Scale == 1f && a.In == a.Out && coordinates != 5) continue;
                if (a.In == 0 || a.Out == 0) throw s.Unsupported("an empty axis");
                if (Taps(mode, antialias, a.Scale) > 64) throw s.Unsupported($"antialiasing with scale {a.Scale} needs more than 64 taps per output");
                passes.Add(a);
            }

            string t = PlanTypes.CSharp(type);
            var lowering = new StepLowering($"Resize {modeName} {type} {Lit.Shape(x)} -> {Lit.Shape(y)}, {passes.Count} pass(es)")
                .Shape("IResizeShape")
                .Int("Mode", mode).Int("Coordinates", coordinates).Int("Nearest", nearest).Float("CubicA", cubicA)
                .Bool("ExcludeOutside", exclude).Bool("Antialias", antialias).Float("Extrapolation", extrapolation);
            string xs = s.NnInput(0, Lit.Product(x), type), ys = s.NnOutput(0, Lit.Product(y), type);
            if (passes.Count == 0) return lowering.Call($"{R}Resize.Copy<{t}>({xs}, {ys});");

            // roi matters for tf_crop_and_resize only.
            string roi = "default";
            if (coordinates == 5 && Given(roiInput))
            {
                if (Lit.Product(s.InShape(roiInput)) != 2 * axes.Length) throw s.Unsupported($"roi {Lit.Shape(s.InShape(roiInput))} for {axes.Length} axes");
                if (s.InputType(roiInput) == PlanTypes.Float) roi = s.FloatInput(roiInput, 2 * axes.Length);
                else
                {
                    var values = s.NnFloatValue(roiInput) ?? throw s.Unsupported($"a runtime roi of type {s.InputType(roiInput)}");
                    lowering.Members.Add(new ShapeMember("global::System.ReadOnlySpan<float>", "Roi", "new float[] { " + string.Join(", ", values.Select(Lit.Float)) + " }"));
                    roi = s.StructName + ".Roi";
                }
            }

            // Intermediates alternate between two halves of scratch, each as large as the larger of X and Y
            // (converted resizes: X as float, then the halves, then Y as float).
            string passType = convert ? PlanTypes.Float : type, pt = PlanTypes.CSharp(passType);
            long inCount = Lit.Product(x), outCount = Lit.Product(y);
            long half = (Math.Max(inCount, outCount) * PlanTypes.Size(passType) + 3) / 4;
            int buffers = Math.Min(2, passes.Count - 1);
            long halves = convert ? inCount : 0;
            string scratch = s.NnScratch(lowering, buffers * half + (convert ? inCount + outCount : 0));
            string src = xs, final = ys;
            if (convert)
            {
                src = $"{scratch}.Slice(0, {Lit.Int(inCount)})";
                final = $"{scratch}.Slice({Lit.Int(inCount + buffers * half)}, {Lit.Int(outCount)})";
                lowering.Call($"{R}Resize.ToFloat<{t}>({xs}, {src});");
            }
            var current = (int[])x.Clone();
            for (int p = 0; p < passes.Count; p++)
            {
                var a = passes[p];
                long outer = Lit.Product(current.Take(a.Index)), inner = Lit.Product(current.Skip(a.Index + 1));
                current[a.Index] = a.Out;
                string part = $"{scratch}.Slice({Lit.Int(halves + p % 2 * half)}, {Lit.Int(half)})";
                string dst = p == passes.Count - 1 ? final : passType == PlanTypes.Float ? part : $"{Cast}<float, {pt}>({part})";
                int roiStart = roi == "default" || a.RoiK < 0 ? 0 : a.RoiK, roiEnd = roi == "default" || a.RoiK < 0 ? 0 : axes.Length + a.RoiK;
                string axisRoi = roi != "default" && a.RoiK < 0 ? "default" : roi;
                lowering.Call($"{R}Resize.Pass<{s.StructName}, {pt}>({src}, {dst}, {Lit.Int(outer)}, {Lit.Int(a.In)}, {Lit.Int(a.Out)}, {Lit.Int(inner)}, " +
                    $"{Lit.Float(a.Scale)}, {Lit.Float(a.LengthResized)}, {axisRoi}, {Lit.Int(roiStart)}, {Lit.Int(roiEnd)});");
                src = dst;
            }
            if (convert) lowering.Call($"{R}Resize.FromFloat<{t}>({final}, {ys});");
            return lowering;
        }

        private static int Taps(int mode, bool antialias, float scale)
        {
            double sc = Math.Min(scale, 1.0);
            return mode switch
            {
                0 => 1,
                1 => antialias ? 2 - 2 * ((int)Math.Floor(-1.0 / sc) + 1) : 2,
                _ => antialias ? 2 - 2 * ((int)Math.Floor(-2.0 / sc) + 1) : 4,
            };
        }
    }
}
