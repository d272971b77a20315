using System;

namespace CompressBuild.Generator.Ops
{
    /// <summary>
    /// Marks a <c>static StepLowering Method(StepInfo)</c> as the lowering of an ONNX op. <see cref="OpTable"/>
    /// finds lowerings by this attribute, so adding an op touches only its family's file.
    /// </summary>
    [AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
    internal sealed class LowersAttribute : Attribute
    {
        public LowersAttribute(string op) => Op = op;

        /// <summary>The ONNX op type.</summary>
        public string Op { get; }
    }
}
