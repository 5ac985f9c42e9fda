package dev.ferry.nftables;

/**
 * One step of a rule, as the kernel runs it: a load into a register (payload, meta, ct, numgen,
 * fib), a test of a register (cmp, lookup), or an action (immediate verdicts, nat, masq, reject,
 * dynset, counter). nft's one line ({@code ip daddr 10.0.0.1}) is several expressions ({@code
 * payload} into register 1, then {@code cmp} of register 1). A file per expression, each with its
 * kernel attributes in the order nft (libnftnl) sends them.
 *
 * <p>Registers: {@link #VERDICT} is the verdict register; {@link #REG_1}..4 are the 16-byte
 * registers; {@link #reg32(int)} names the 32-bit slots, the first of which is {@link #REG_1}. A
 * concatenation loads its fields into consecutive 32-bit slots from {@code reg32(0)}.
 */
public sealed interface Expression permits Payload, Meta, Cmp, Bitwise, Immediate, Lookup, Ct, Nat, Masq, Reject,
        Counter, Numgen, Fib, Dynset, UnknownExpression {

    int VERDICT = 0;
    int REG_1 = 1;
    int REG_2 = 2;

    /** 32-bit slot {@code i} (0..15): NFT_REG32_00 + i; slot 0 is {@link #REG_1}. */
    static int reg32(int i) {
        if (i < 0 || i > 15) {
            throw new IllegalArgumentException("32-bit register " + i + " out of range 0..15");
        }
        return i == 0 ? REG_1 : 8 + i;
    }

    /** The kernel's name for the expression ("payload", "lookup"). */
    String kind();
}
