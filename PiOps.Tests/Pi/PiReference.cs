using System.Numerics;

namespace PiOps.Tests.Pi;

/// <summary>
/// Independent references for the book's partial sums, each good to well over 30 digits:
/// exact rational arithmetic for small n, and for large n the asymptotic expansion of the Leibniz partial sums
/// (Borwein, Borwein and Dilcher, "Pi, Euler numbers and asymptotic expansions", 1989):
/// pi/4 - T_M = (-1)^M / 2 * sum_j E_2j / (2M)^(2j+1), with T_M the sum of the first M terms and E the Euler numbers.
/// n iterations of the book's loop sum M = 2n + 1 terms.
/// </summary>
public static class PiReference
{
    // 70 digits of pi, from any table.
    private const string PiDigits = "31415926535897932384626433832795028841971693993751058209749445923078164";
    private static readonly BigInteger[] EulerNumbers = [1, -1, 5, -61, 1385, -50521, 2702765, -199360981];

    /// <summary>4 * T_(2n+1) as an exact fraction.</summary>
    public static (BigInteger Num, BigInteger Den) Exact(long n)
    {
        BigInteger num = 0, den = 1;
        for (long k = 0; k < 2 * n + 1; k++)
        {
            BigInteger d = 2 * k + 1;
            num = num * d + (k % 2 == 0 ? den : -den);
            den *= d;
            var g = BigInteger.GreatestCommonDivisor(num, den);
            num /= g;
            den /= g;
        }

        return (4 * num, den);
    }

    /// <summary>4 * T_(2n+1) from the asymptotic expansion; error far below 10^-40 for n of 1000 and more.</summary>
    public static (BigInteger Num, BigInteger Den) Asymptotic(long n)
    {
        BigInteger m2 = 2 * (2 * (BigInteger)n + 1); // 2M
        BigInteger piDen = BigInteger.Pow(10, PiDigits.Length - 1);
        BigInteger piNum = BigInteger.Parse(PiDigits);
        // correction C = sum E_2j / (2M)^(2j+1) over a common denominator (2M)^(2J+1)
        int terms = EulerNumbers.Length;
        BigInteger cDen = BigInteger.Pow(m2, 2 * terms - 1);
        BigInteger cNum = 0;
        for (int j = 0; j < terms; j++)
        {
            cNum += EulerNumbers[j] * BigInteger.Pow(m2, 2 * (terms - 1 - j));
        }

        // M is odd, so T_M = pi/4 + C/2 and 4 T_M = pi + 2C.
        return (piNum * cDen + 2 * cNum * piDen, piDen * cDen);
    }

    /// <summary>num/den rounded half-to-even to <paramref name="digits"/> significant digits, for values in [1, 10).</summary>
    public static string Round(BigInteger num, BigInteger den, int digits)
    {
        var scaled = num * BigInteger.Pow(10, digits - 1);
        var q = BigInteger.DivRem(scaled, den, out var r);
        int c = (2 * r).CompareTo(den);
        if (c > 0 || (c == 0 && !q.IsEven))
        {
            q++;
        }

        string s = q.ToString();
        return s[..1] + "." + s[1..];
    }

    /// <summary>|a - b| for the fraction a and the double-double b, in units of 10^-30.</summary>
    public static double DistanceE30(BigInteger num, BigInteger den, double hi, double lo)
    {
        var (bn, bd) = FromDouble(hi);
        var (ln, ld) = FromDouble(lo);
        // b = bn/bd + ln/ld
        var diffNum = (num * bd * ld) - (bn * ld + ln * bd) * den;
        var diffDen = den * bd * ld;
        return (double)(BigInteger.Abs(diffNum) * BigInteger.Pow(10, 30) / diffDen);
    }

    private static (BigInteger, BigInteger) FromDouble(double d)
    {
        if (d == 0)
        {
            return (0, 1);
        }

        long bits = BitConverter.DoubleToInt64Bits(d);
        int exp = (int)((bits >> 52) & 0x7FF);
        long mant = bits & 0xFFFFFFFFFFFFFL;
        if (exp != 0)
        {
            mant |= 1L << 52;
        }
        else
        {
            exp = 1;
        }

        BigInteger m = bits < 0 ? -mant : mant;
        int e = exp - 1075;
        return e >= 0 ? (m << e, 1) : (m, BigInteger.One << -e);
    }
}
