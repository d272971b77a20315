using System.Linq;

namespace CompressBuild.Generator.Ops
{
    /// <summary>
    /// The operand shapes of a numpy-style matrix product (MatMul, QLinearMatMul, MatMulInteger): 1-D
    /// operands promoted (A to [1, K], B to [K, 1]), M, K, N, and the batch dims of both sides padded
    /// with leading 1s to one rank.
    /// </summary>
    internal sealed class MatMulOperands
    {
        private MatMulOperands(int[] a, int[] b, int m, int k, int n, int[] batchA, int[] batchB)
        {
            A = a;
            B = b;
            M = m;
            K = k;
            N = n;
            BatchA = batchA;
            BatchB = batchB;
            Pa = Lit.Product(batchA);
            Pb = Lit.Product(batchB);
        }

        /// <summary>The shapes as the plan gives them.</summary>
        public int[] A { get; }

        /// <inheritdoc cref="A"/>
        public int[] B { get; }

        /// <summary>Rows of A, the reduction, columns of B.</summary>
        public int M { get; }

        /// <inheritdoc cref="M"/>
        public int K { get; }

        /// <inheritdoc cref="M"/>
        public int N { get; }

        /// <summary>Batch dims of A and of B, padded to the same rank.</summary>
        public int[] BatchA { get; }

        /// <inheritdoc cref="BatchA"/>
        public int[] BatchB { get; }

        /// <summary>Number of matrices in A and in B.</summary>
        public long Pa { get; }

        /// <inheritdoc cref="Pa"/>
        public long Pb { get; }

        /// <summary>Products computed when <see cref="OneSideShared"/>.</summary>
        public long Batch => System.Math.Max(Pa, Pb);

        /// <summary>Equal batches, or one side a single matrix shared by every product (the Gemm kernels' batching).</summary>
        public bool OneSideShared => Pa == 1 || Pb == 1 || BatchA.SequenceEqual(BatchB);

        /// <summary>Inputs <paramref name="ai"/> and <paramref name="bi"/> of the step; throws when they are not a matrix product.</summary>
        public static MatMulOperands Of(StepInfo s, int ai, int bi)
        {
            var a = s.InShape(ai);
            var b = s.InShape(bi);
            if (a.Length == 0 || b.Length == 0) throw s.Unsupported("scalar operands are not valid for a matrix product");
            var a2 = a.Length == 1 ? new[] { 1, a[0] } : a;
            var b2 = b.Length == 1 ? new[] { b[0], 1 } : b;
            int m = a2[a2.Length - 2], k = a2[a2.Length - 1], n = b2[b2.Length - 1];
            if (b2[b2.Length - 2] != k) throw s.Unsupported($"A {Lit.Shape(a)} and B {Lit.Shape(b)} do not agree on K");
            int rank = System.Math.Max(a2.Length, b2.Length) - 2;
            int[] Batch(int[] x) => Enumerable.Repeat(1, rank - (x.Length - 2)).Concat(x.Take(x.Length - 2)).ToArray();
            return new MatMulOperands(a, b, m, k, n, Batch(a2), Batch(b2));
        }

        /// <summary>Throws unless output 0 holds <see cref="Batch"/>·M·N elements.</summary>
        public void RequireOutput(StepInfo s)
        {
            var y = s.OutShape(0);
            if (Lit.Product(y) != Batch * M * N) throw s.Unsupported($"output {Lit.Shape(y)} does not match A {Lit.Shape(A)} x B {Lit.Shape(B)}");
        }
    }
}
