using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using PiOps.Shared.Pi;
using Xunit;

namespace PiOps.Tests.Pi;

/// <summary>
/// Every kernel this CPU runs (512-bit, 256-bit, scalar) gives the exact digits, for n that fill no vector, that end
/// mid-vector and that cross a chunk. A kernel the CPU lacks has no rows here; dispatch is checked separately.
/// </summary>
public class PiKernelFacts
{
    private static readonly long[] SmallN = [0, 1, 2, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31, 32, 33, 47, 48, 49, 63, 64, 65, 100, 1001, 2500];

    // Kernels travel by name: the enum is internal to PiOps.Shared, and test methods are public.
    public static TheoryData<string, long> SupportedKernelsAndSmallN()
    {
        var data = new TheoryData<string, long>();
        foreach (var kernel in SupportedKernels())
        {
            foreach (long n in SmallN)
            {
                data.Add(kernel.ToString(), n);
            }
        }

        return data;
    }

    public static TheoryData<string> SupportedKernelData() => new(SupportedKernels().Select(k => k.ToString()));

    [Theory]
    [MemberData(nameof(SupportedKernelsAndSmallN))]
    public void Compute_EachKernel_MatchesExactRational(string kernelName, long n)
    {
        var kernel = Enum.Parse<PiKernel>(kernelName);
        var (num, den) = PiReference.Exact(n);
        var value = LeibnizPi.Compute(n, kernel);

        Assert.Equal(PiReference.Round(num, den, 20), value.ToString());
        Assert.Equal(PiReference.Round(num, den, 28), value.ToString(28));
        Assert.True(PiReference.DistanceE30(num, den, value.Hi, value.Lo) < 1, $"{kernel}: error over 1e-30 at n={n}");
    }

    [Theory]
    [MemberData(nameof(SupportedKernelData))]
    public void Compute_EachKernel_MatchesHighPrecisionReference_AcrossChunks(string kernelName)
    {
        var kernel = Enum.Parse<PiKernel>(kernelName);
        // Three chunks and a tail that is not a multiple of any vector width; the scalar kernel gets a smaller n.
        long n = kernel == PiKernel.Scalar ? LeibnizPi.ChunkIterations + 13 : 3 * LeibnizPi.ChunkIterations + 29;
        var (num, den) = PiReference.Asymptotic(n);
        var value = LeibnizPi.Compute(n, kernel);

        Assert.Equal(PiReference.Round(num, den, 20), value.ToString());
        Assert.True(PiReference.DistanceE30(num, den, value.Hi, value.Lo) < 1000, $"{kernel}: error over 1e-27 at n={n}");
    }

    [Theory]
    [InlineData(9_500_000L)]
    [InlineData(12_345_679L)]
    public void Compute_VectorKernels_AgreeToEveryPrintedDigit(long n)
    {
        var (num, den) = PiReference.Asymptotic(n);
        string truth = PiReference.Round(num, den, 20);
        foreach (var kernel in SupportedKernels().Where(k => k != PiKernel.Scalar))
        {
            Assert.Equal(truth, LeibnizPi.Compute(n, kernel).ToString());
        }
    }

    [Fact]
    public void BestKernel_IsTheWidestTheHardwareAccelerates()
    {
        var expected = Vector512.IsHardwareAccelerated && Avx512F.IsSupported ? PiKernel.Vector512
            : Vector256.IsHardwareAccelerated ? PiKernel.Vector256 : PiKernel.Scalar;
        Assert.Equal(expected, LeibnizPi.BestKernel);
    }

    [Fact]
    public void Compute_RefusesAKernelTheCpuLacks()
    {
        foreach (var kernel in Enum.GetValues<PiKernel>().Where(k => !LeibnizPi.IsSupported(k)))
        {
            Assert.Throws<PlatformNotSupportedException>(() => LeibnizPi.Compute(10, kernel));
        }
    }

    [Theory]
    [MemberData(nameof(SupportedKernelData))]
    public void Compute_EachKernel_StopsBetweenChunks_WhenCancelled(string kernelName)
    {
        var kernel = Enum.Parse<PiKernel>(kernelName);
        using var cts = new CancellationTokenSource();
        var reports = new List<long>();
        Assert.ThrowsAny<OperationCanceledException>(() => LeibnizPi.Compute(10 * LeibnizPi.ChunkIterations, kernel, done =>
        {
            reports.Add(done);
            cts.Cancel();
        }, cts.Token));

        Assert.Equal([LeibnizPi.ChunkIterations], reports);
    }

    private static IEnumerable<PiKernel> SupportedKernels() => Enum.GetValues<PiKernel>().Where(LeibnizPi.IsSupported);
}
