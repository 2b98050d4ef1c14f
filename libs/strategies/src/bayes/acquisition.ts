/*
 * Normal-distribution helpers and log expected improvement that stay finite far in the tails
 * (Ament et al. 2023, "Unexpected improvements to expected improvement for Bayesian optimization").
 */

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
const HALF_LOG_PI_OVER_2 = 0.5 * Math.log(Math.PI / 2);

/**
 * Scaled complementary error function erfcx(x) = exp(x^2) erfc(x) for x >= 0, relative error
 * below 1.2e-7 (Numerical Recipes' erfcc with the exp(-x^2) factor left out, so no overflow).
 */
export function erfcx(x: number): number {
  const t = 1 / (1 + 0.5 * x);
  return (
    t *
    Math.exp(
      -1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    )
  );
}

export function erfc(x: number): number {
  return x >= 0 ? erfcx(x) * Math.exp(-x * x) : 2 - erfcx(-x) * Math.exp(-x * x);
}

export function normPdf(z: number): number {
  return Math.exp(-0.5 * z * z - LOG_SQRT_2PI);
}

export function normCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/** log Phi(z), accurate for very negative z. */
export function logNormCdf(z: number): number {
  if (z > 0) return Math.log1p(-0.5 * erfc(z / Math.SQRT2));
  return Math.log(0.5 * erfcx(-z / Math.SQRT2)) - 0.5 * z * z;
}

/** log(1 - exp(x)) for x < 0 (Maechler 2012). */
function log1mexp(x: number): number {
  return x > -Math.LN2 ? Math.log(-Math.expm1(x)) : Math.log1p(-Math.exp(x));
}

/** log h(z) with h(z) = phi(z) + z Phi(z), the expected improvement of a standard normal. */
export function logH(z: number): number {
  if (z > -1) return Math.log(normPdf(z) + z * normCdf(z));
  if (z > -25) {
    return -0.5 * z * z - LOG_SQRT_2PI + log1mexp(Math.log(erfcx(-z / Math.SQRT2) * -z) + HALF_LOG_PI_OVER_2);
  }
  // Asymptotic series h(z) ~ phi(z) / z^2 (1 - 3/z^2 + 15/z^4) where the difference above cancels.
  const z2 = z * z;
  return -0.5 * z2 - LOG_SQRT_2PI - Math.log(z2) + Math.log1p(-3 / z2 + 15 / (z2 * z2));
}

/** log EI for minimization: improvement over `best` of a normal with mean `mean` and sd `sd`. */
export function logExpectedImprovement(mean: number, sd: number, best: number): number {
  return Math.log(sd) + logH((best - mean) / sd);
}
