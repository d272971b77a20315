using CompressBuild.Onnx.Protobuf;
using Google.Protobuf;

namespace CompressBuild.Onnx.Tests;

[TestClass]
public sealed class TensorStorageTests
{
    private static TensorProto Proto(DataType type, params long[] dims)
    {
        var p = new TensorProto { DataType = (int)type, Name = "t" };
        p.Dims.AddRange(dims);
        return p;
    }

    [TestMethod]
    public void TypedFields_DecodeEveryElementType()
    {
        var f = Proto(DataType.Float, 2); f.FloatData.Add(1.5f); f.FloatData.Add(-2f);
        CollectionAssert.AreEqual(new[] { 1.5f, -2f }, TensorProtoCodec.Decode(f, null, "t").Floats);

        var d = Proto(DataType.Double, 1); d.DoubleData.Add(0.25);
        Assert.AreEqual(0.25, TensorProtoCodec.Decode(d, null, "t").ArrayOf<double>()[0]);

        var l = Proto(DataType.Int64, 2); l.Int64Data.Add(long.MinValue); l.Int64Data.Add(7);
        CollectionAssert.AreEqual(new[] { long.MinValue, 7L }, TensorProtoCodec.Decode(l, null, "t").ArrayOf<long>());

        var i8 = Proto(DataType.Int8, 2); i8.Int32Data.Add(-128); i8.Int32Data.Add(127);
        CollectionAssert.AreEqual(new sbyte[] { -128, 127 }, TensorProtoCodec.Decode(i8, null, "t").ArrayOf<sbyte>());

        var u8 = Proto(DataType.UInt8, 1); u8.Int32Data.Add(255);
        Assert.AreEqual((byte)255, TensorProtoCodec.Decode(u8, null, "t").ArrayOf<byte>()[0]);

        var b = Proto(DataType.Bool, 2); b.Int32Data.Add(1); b.Int32Data.Add(0);
        CollectionAssert.AreEqual(new[] { true, false }, TensorProtoCodec.Decode(b, null, "t").ArrayOf<bool>());

        // float16 and bfloat16 are stored as their bit patterns in int32_data.
        var h = Proto(DataType.Float16, 1); h.Int32Data.Add(0x3C00);
        Assert.AreEqual((Half)1, TensorProtoCodec.Decode(h, null, "t").ArrayOf<Half>()[0]);
        var bf = Proto(DataType.BFloat16, 1); bf.Int32Data.Add(0x4040);
        Assert.AreEqual(3f, (float)TensorProtoCodec.Decode(bf, null, "t").ArrayOf<BFloat16>()[0]);

        var u64 = Proto(DataType.UInt64, 1); u64.Uint64Data.Add(ulong.MaxValue);
        Assert.AreEqual(ulong.MaxValue, TensorProtoCodec.Decode(u64, null, "t").ArrayOf<ulong>()[0]);

        var s = Proto(DataType.String, 1); s.StringData.Add(ByteString.CopyFromUtf8("héllo"));
        Assert.AreEqual("héllo", TensorProtoCodec.Decode(s, null, "t").ArrayOf<string>()[0]);
    }

    [TestMethod]
    public void EncodeThenDecode_IsExact_ForEveryNumericType()
    {
        var tensors = new[]
        {
            Tensor.FromArray(new[] { 1f, float.NaN, float.NegativeInfinity }, 3),
            Tensor.FromArray(new[] { 1.0, -0.0 }, 2),
            Tensor.FromArray(new[] { (Half)0.5, Half.MaxValue }, 2),
            Tensor.FromArray(new[] { new BFloat16(0x3F80) }, 1),
            Tensor.FromArray(new sbyte[] { -1, 2 }, 2, 1),
            Tensor.FromArray(new short[] { -300 }, 1),
            Tensor.FromArray(new ushort[] { 65535 }, 1),
            Tensor.FromArray(new[] { int.MinValue }, 1),
            Tensor.FromArray(new[] { uint.MaxValue }, 1),
            Tensor.FromArray(new[] { true, false, true }, 3),
            Tensor.FromArray(new[] { "a", "" }, 2),
            Tensor.FromArray(new float[0], 0, 4),
            Tensor.Scalar(42L),
        };
        foreach (var t in tensors)
        {
            var back = TensorProtoCodec.Decode(TensorProtoCodec.Encode(t, "x"), null, "x");
            Assert.AreEqual(t.DataType, back.DataType);
            CollectionAssert.AreEqual(t.Shape, back.Shape);
            Assert.IsNull(Numerics.Compare(t, back, 0, 0), $"{t} changed in a round trip");
        }
    }

    [TestMethod]
    public void RawDataOfTheWrongLength_IsCB1002_NamingTheTensor()
    {
        var p = Proto(DataType.Float, 2, 3);
        p.RawData = ByteString.CopyFrom(new byte[20]);
        var e = Assert.ThrowsExactly<CompressBuildException>(() => TensorProtoCodec.Decode(p, null, "m.onnx: initializer 'w'"));
        Assert.AreEqual(ErrorCodes.TensorDataSize, e.Code);
        StringAssert.Contains(e.Message, "'w'");
        StringAssert.Contains(e.Message, "20 bytes");
        StringAssert.Contains(e.Message, "need 24");
    }

    [TestMethod]
    public void NegativeDims_AreCB1003_AndOverflowingDims_AreCB1004()
    {
        var neg = Proto(DataType.Float, 2, -3);
        Assert.AreEqual(ErrorCodes.NegativeDim, Assert.ThrowsExactly<CompressBuildException>(() => TensorProtoCodec.Decode(neg, null, "t")).Code);
        var big = Proto(DataType.Float, 1L << 20, 1L << 20, 1L << 20);
        Assert.AreEqual(ErrorCodes.DimOverflow, Assert.ThrowsExactly<CompressBuildException>(() => TensorProtoCodec.Decode(big, null, "t")).Code);
    }

    [TestMethod]
    public void ExternalData_IsReadRelativeToTheModel_AtItsOffset()
    {
        string dir = TestData.TempDirectory("ext");
        var bytes = new byte[8 + 12];
        Buffer.BlockCopy(new[] { 1f, 2f, 3f }, 0, bytes, 8, 12);
        File.WriteAllBytes(Path.Combine(dir, "weights.bin"), bytes);
        var p = Proto(DataType.Float, 3);
        p.DataLocation = TensorProto.Types.DataLocation.External;
        p.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "weights.bin" });
        p.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = "8" });
        p.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = "12" });
        CollectionAssert.AreEqual(new[] { 1f, 2f, 3f }, TensorProtoCodec.Decode(p, dir, "t").Floats);
    }

    [TestMethod]
    [DataRow("../outside.bin")]
    [DataRow("sub/../../outside.bin")]
    [DataRow("/etc/passwd")]
    public void ExternalData_LeavingTheModelFolder_IsCB1005(string location)
    {
        string dir = TestData.TempDirectory("ext");
        var p = Proto(DataType.Float, 1);
        p.DataLocation = TensorProto.Types.DataLocation.External;
        p.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
        var e = Assert.ThrowsExactly<CompressBuildException>(() => TensorProtoCodec.Decode(p, dir, "t"));
        Assert.AreEqual(ErrorCodes.ExternalDataPath, e.Code);
        StringAssert.Contains(e.Message, location);
    }
}
