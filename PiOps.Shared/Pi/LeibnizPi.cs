using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace PiOps.Shared.Pi;

/// <summary>
/// The book's Leibniz series: start at 1, each iteration subtracts 1/odd and adds 1/(odd + 2), odd += 4; times 4.
/// Iteration k (from 0) therefore subtracts 1/(4k+3) - 1/(4k+5) = 2 / ((4k+3)(4k+5)), which is the one term summed here.
/// </summary>
/// <remarks>
/// The sum is kept in double-double arithmetic (about 32 significant digits): each term is formed from an exact
/// two-product of its denominator and the residual of its reciprocal (by division, or by Newton steps on a third of the
/// 512-bit lanes), and added with an error-free two-sum.
/// The error after 10^11 iterations stays far below the 10^-20 the printed 20 digits need (see docs/pi.md).
/// The loop runs on the widest vectors the CPU has (<see cref="PiKernel"/>), each with its own accumulators.
/// </remarks>
public static class LeibnizPi
{
    /// <summary>Iterations between cancellation checks and progress reports: about a millisecond of work.</summary>
    public const long ChunkIterations = 1 << 20;

    // Lanes' low parts are folded into their high parts this often, which keeps the low sums tiny and their rounding harmless.
    private const int RenormalizeEvery = 64;

    /// <summary>Computes the exact partial sum of <paramref name="iterations"/> iterations, to about 32 digits.</summary>
    /// <param name="iterations">n, from 0; n = 0 gives 4.</param>
    /// <param name="onProgress">Called with the iterations done so far, about once a millisecond. Must be cheap.</param>
    /// <param name="cancellationToken">Checked about once a millisecond.</param>
    public static PiValue Compute(long iterations, Action<long>? onProgress = null, CancellationToken cancellationToken = default) =>
        Compute(iterations, BestKernel, onProgress, cancellationToken);

    /// <summary>The widest kernel this CPU runs in hardware: what <see cref="Compute(long, Action{long}?, CancellationToken)"/> uses.</summary>
    internal static PiKernel BestKernel { get; } =
        IsSupported(PiKernel.Vector512) ? PiKernel.Vector512 :
        IsSupported(PiKernel.Vector256) ? PiKernel.Vector256 : PiKernel.Scalar;

    /// <summary>Whether <paramref name="kernel"/> runs in hardware here; tests and the bench compare the kernels that do.</summary>
    internal static bool IsSupported(PiKernel kernel) => kernel switch
    {
        PiKernel.Vector512 => Vector512.IsHardwareAccelerated && Avx512F.IsSupported,
        PiKernel.Vector256 => Vector256.IsHardwareAccelerated,
        _ => true,
    };

    /// <summary>As <see cref="Compute(long, Action{long}?, CancellationToken)"/>, with the kernel forced, so tests and the bench compare them.</summary>
    internal static PiValue Compute(long iterations, PiKernel kernel, Action<long>? onProgress = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(iterations);
        // The denominators 4k+3 must be exact in a double: far beyond any configurable maximum.
        ArgumentOutOfRangeException.ThrowIfGreaterThan(iterations, 1L << 50);
        if (!IsSupported(kernel))
        {
            throw new PlatformNotSupportedException($"The {kernel} kernel needs hardware this CPU does not have.");
        }

        var sum = DoubleDouble.Zero;
        for (long start = 0; start < iterations; start += ChunkIterations)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long end = Math.Min(iterations, start + ChunkIterations);
            sum += SumTerms(start, end, kernel);
            onProgress?.Invoke(end);
        }

        // pi = 4 * (1 - sum); multiplying by 4 is exact.
        var quarter = DoubleDouble.One - sum;
        return new PiValue(quarter.Hi * 4, quarter.Lo * 4);
    }

    /// <summary>Sum of 2 / ((4k+3)(4k+5)) for k in [start, end).</summary>
    internal static DoubleDouble SumTerms(long start, long end, PiKernel kernel)
    {
        long k = start;
        var total = kernel switch
        {
            PiKernel.Vector512 => SumTerms512(ref k, end),
            PiKernel.Vector256 => SumTerms256(ref k, end),
            _ => DoubleDouble.Zero,
        };

        // The vector kernels leave fewer terms than one loop turn takes; the scalar kernel does all of them here.
        for (; k < end; k++)
        {
            total += Term(4.0 * k + 3.0);
        }

        return total;
    }

    // Three 8-lane vectors: k advances by 24 per turn. Two divide; the third forms its reciprocal from the 14-bit
    // estimate and two Newton steps on the FMA units, so the divider, which bounds the loop, has a third less to do.
    private static DoubleDouble SumTerms512(ref long k, long end)
    {
        var one = Vector512<double>.One;
        var two = Vector512.Create(2.0);
        var step = Vector512.Create(96.0);
        var a0 = Vector512.Create(0.0, 4, 8, 12, 16, 20, 24, 28) + Vector512.Create(4.0 * k + 3.0);
        var a1 = a0 + Vector512.Create(32.0);
        var a2 = a1 + Vector512.Create(32.0);
        Vector512<double> s0 = default, l0 = default, s1 = default, l1 = default, s2 = default, l2 = default;

        long vectorEnd = k + ((end - k) / 24 * 24);
        int sinceRenormalize = 0;
        for (; k < vectorEnd; k += 24)
        {
            AddReciprocals(a0, one, two, ref s0, ref l0);
            AddReciprocals(a1, one, two, ref s1, ref l1);
            AddReciprocalsByNewton(a2, one, two, ref s2, ref l2);
            a0 += step;
            a1 += step;
            a2 += step;
            if (++sinceRenormalize == RenormalizeEvery)
            {
                sinceRenormalize = 0;
                FastTwoSum(ref s0, ref l0);
                FastTwoSum(ref s1, ref l1);
                FastTwoSum(ref s2, ref l2);
            }
        }

        var total = DoubleDouble.Zero;
        for (int lane = 0; lane < Vector512<double>.Count; lane++)
        {
            total += new DoubleDouble(s0[lane], 0) + l0[lane];
            total += new DoubleDouble(s1[lane], 0) + l1[lane];
            total += new DoubleDouble(s2[lane], 0) + l2[lane];
        }

        return total.Twice();
    }

    // Two 4-lane vectors: k advances by 8 per turn, a = 4k+3 by 32.
    private static DoubleDouble SumTerms256(ref long k, long end)
    {
        var one = Vector256<double>.One;
        var two = Vector256.Create(2.0);
        var step = Vector256.Create(32.0);
        var a0 = Vector256.Create(4.0 * k + 3.0, 4.0 * k + 7.0, 4.0 * k + 11.0, 4.0 * k + 15.0);
        var a1 = a0 + Vector256.Create(16.0);
        Vector256<double> s0 = default, l0 = default, s1 = default, l1 = default;

        long vectorEnd = k + ((end - k) / 8 * 8);
        int sinceRenormalize = 0;
        for (; k < vectorEnd; k += 8)
        {
            AddReciprocals(a0, one, two, ref s0, ref l0);
            AddReciprocals(a1, one, two, ref s1, ref l1);
            a0 += step;
            a1 += step;
            if (++sinceRenormalize == RenormalizeEvery)
            {
                sinceRenormalize = 0;
                FastTwoSum(ref s0, ref l0);
                FastTwoSum(ref s1, ref l1);
            }
        }

        var total = DoubleDouble.Zero;
        for (int lane = 0; lane < Vector256<double>.Count; lane++)
        {
            total += new DoubleDouble(s0[lane], 0) + l0[lane];
            total += new DoubleDouble(s1[lane], 0) + l1[lane];
        }

        return total.Twice();
    }

    // Adds 1 / (a (a + 2)) per lane to the lanes' double-double sums (s, l); the kernels double the total at the end,
    // which is exact and saves a multiplication per term.
    // The divider is the bottleneck, so every other operation is kept off the critical resources: the quotient's
    // residual goes into l with one FMA, and the two-sum is Dekker's fast one, exact here because each lane adds
    // positive, decreasing terms, so s is never smaller than x. The explicit FMA forms (a*b - c, c - a*b) spare the
    // sign flips the JIT otherwise emits for FusedMultiplyAdd(-x, y, z).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddReciprocals(Vector512<double> a, Vector512<double> one, Vector512<double> two,
        ref Vector512<double> s, ref Vector512<double> l)
    {
        var b = a + two;
        var ph = a * b;
        var pl = Avx512F.FusedMultiplySubtract(a, b, ph);      // a*b = ph + pl exactly
        var x = one / ph;
        var r = Avx512F.FusedMultiplyAddNegated(x, ph, one);   // exact residual of the division
        r = Avx512F.FusedMultiplyAddNegated(x, pl, r);         // 1 - x (ph + pl); the term is x + r x
        var sum = s + x;
        l += x - (sum - s);
        l = Avx512F.FusedMultiplyAdd(r, x, l);
        s = sum;
    }

    // As AddReciprocals, with x from VRCP14PD (relative error under 2^-14) refined by two Newton steps to within an
    // ulp or two of 1/ph; the residual below then carries the term to the same ~2^-104 as a divide does (it may round
    // once, at 2^-104 of the term, where a correctly rounded quotient leaves it exact).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddReciprocalsByNewton(Vector512<double> a, Vector512<double> one, Vector512<double> two,
        ref Vector512<double> s, ref Vector512<double> l)
    {
        var b = a + two;
        var ph = a * b;
        var pl = Avx512F.FusedMultiplySubtract(a, b, ph);
        var x = Avx512F.Reciprocal14(ph);
        var e = Avx512F.FusedMultiplyAddNegated(x, ph, one);
        x = Avx512F.FusedMultiplyAdd(x, e, x);                 // 2^-28
        e = Avx512F.FusedMultiplyAddNegated(x, ph, one);
        x = Avx512F.FusedMultiplyAdd(x, e, x);                 // 2^-53 and rounding
        var r = Avx512F.FusedMultiplyAddNegated(x, ph, one);
        r = Avx512F.FusedMultiplyAddNegated(x, pl, r);
        var sum = s + x;
        l += x - (sum - s);
        l = Avx512F.FusedMultiplyAdd(r, x, l);
        s = sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddReciprocals(Vector256<double> a, Vector256<double> one, Vector256<double> two,
        ref Vector256<double> s, ref Vector256<double> l)
    {
        var b = a + two;
        var ph = a * b;
        var pl = Fma.IsSupported ? Fma.MultiplySubtract(a, b, ph) : Vector256.FusedMultiplyAdd(a, b, -ph);
        var x = one / ph;
        var r = Fma.IsSupported ? Fma.MultiplyAddNegated(x, ph, one) : Vector256.FusedMultiplyAdd(-x, ph, one);
        r = Fma.IsSupported ? Fma.MultiplyAddNegated(x, pl, r) : Vector256.FusedMultiplyAdd(-x, pl, r);
        var sum = s + x;
        l += x - (sum - s);
        l = Vector256.FusedMultiplyAdd(r, x, l);
        s = sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FastTwoSum(ref Vector512<double> s, ref Vector512<double> l)
    {
        var sum = s + l;
        l -= sum - s;
        s = sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FastTwoSum(ref Vector256<double> s, ref Vector256<double> l)
    {
        var sum = s + l;
        l -= sum - s;
        s = sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static DoubleDouble Term(double a)
    {
        double b = a + 2;
        double ph = a * b;
        double pl = Math.FusedMultiplyAdd(a, b, -ph);
        double q = 2 / ph;
        double r = Math.FusedMultiplyAdd(-q, ph, 2);
        r = Math.FusedMultiplyAdd(-q, pl, r);
        return DoubleDouble.FastTwoSum(q, r * (q * 0.5));
    }

    /// <summary>The book's own computation, for comparison only: System.Decimal steps, as its Python does with Decimal.</summary>
    public static decimal ComputeNaiveDecimal(long iterations)
    {
        decimal piDiv4 = 1m;
        decimal odd = 3m;
        for (long i = 0; i < iterations; i++)
        {
            piDiv4 -= 1m / odd;
            odd += 2m;
            piDiv4 += 1m / odd;
            odd += 2m;
        }

        return piDiv4 * 4m;
    }
}

/// <summary>How the terms are summed: the same arithmetic on 8, 4 or 1 lanes.</summary>
internal enum PiKernel
{
    Scalar,
    Vector256,
    Vector512,
}

/// <summary>A value held as the unevaluated sum of two doubles, |Lo| at most half an ulp of Hi.</summary>
internal readonly record struct DoubleDouble(double Hi, double Lo)
{
    public static readonly DoubleDouble Zero = new(0, 0);
    public static readonly DoubleDouble One = new(1, 0);

    public static DoubleDouble FastTwoSum(double a, double b)
    {
        double s = a + b;
        return new DoubleDouble(s, b - (s - a));
    }

    public static DoubleDouble TwoSum(double a, double b)
    {
        double s = a + b;
        double bv = s - a;
        return new DoubleDouble(s, (a - (s - bv)) + (b - bv));
    }

    /// <summary>2x, exactly.</summary>
    public DoubleDouble Twice() => new(Hi * 2, Lo * 2);

    public static DoubleDouble operator +(DoubleDouble x, DoubleDouble y)
    {
        var s = TwoSum(x.Hi, y.Hi);
        var t = TwoSum(x.Lo, y.Lo);
        var u = FastTwoSum(s.Hi, s.Lo + t.Hi);
        return FastTwoSum(u.Hi, u.Lo + t.Lo);
    }

    public static DoubleDouble operator +(DoubleDouble x, double y) => x + new DoubleDouble(y, 0);

    public static DoubleDouble operator -(DoubleDouble x) => new(-x.Hi, -x.Lo);

    public static DoubleDouble operator -(DoubleDouble x, DoubleDouble y) => x + -y;

    /// <summary>The exact value as a fraction numerator / 2^shift, shift ≥ 0.</summary>
    public (BigInteger Numerator, int Shift) ToExactFraction()
    {
        var (mh, eh) = Decompose(Hi);
        var (ml, el) = Decompose(Lo);
        int shift = Math.Max(0, -Math.Min(eh, el));
        var numerator = Scale(mh, eh + shift) + Scale(ml, el + shift);
        return (numerator, shift);

        static BigInteger Scale(BigInteger mantissa, int exponent) =>
            exponent >= 0 ? mantissa << exponent : mantissa >> -exponent;
    }

    // d = mantissa * 2^exponent exactly.
    private static (BigInteger Mantissa, int Exponent) Decompose(double d)
    {
        if (d == 0)
        {
            return (BigInteger.Zero, 0);
        }

        long bits = BitConverter.DoubleToInt64Bits(d);
        bool negative = bits < 0;
        int exponent = (int)((bits >> 52) & 0x7FF);
        long mantissa = bits & 0xFFFFFFFFFFFFFL;
        if (exponent == 0)
        {
            exponent = 1; // subnormal
        }
        else
        {
            mantissa |= 1L << 52;
        }

        return (negative ? -mantissa : mantissa, exponent - 1075);
    }
}
