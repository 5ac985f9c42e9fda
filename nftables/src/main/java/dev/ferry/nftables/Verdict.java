package dev.ferry.nftables;

import java.util.Objects;

/**
 * A verdict: what an immediate expression or a verdict map's element decides. Jumps and gotos
 * name their target chain, which must exist in the same table when the transaction runs.
 *
 * @param code  NF_ACCEPT, NF_DROP or an NFT_* verdict code (see the constants)
 * @param chain the target of a jump or goto; null otherwise
 */
public record Verdict(int code, String chain) {

    static final int DROP_CODE = 0;
    static final int ACCEPT_CODE = 1;
    static final int CONTINUE_CODE = -1;
    static final int BREAK_CODE = -2;
    static final int JUMP_CODE = -3;
    static final int GOTO_CODE = -4;
    static final int RETURN_CODE = -5;

    public static final Verdict ACCEPT = new Verdict(ACCEPT_CODE, null);
    public static final Verdict DROP = new Verdict(DROP_CODE, null);
    public static final Verdict CONTINUE = new Verdict(CONTINUE_CODE, null);
    public static final Verdict RETURN = new Verdict(RETURN_CODE, null);

    public Verdict {
        boolean toChain = code == JUMP_CODE || code == GOTO_CODE;
        if (toChain) {
            Chain.checkName(Objects.requireNonNull(chain, "chain of a jump or goto"));
        } else if (chain != null) {
            throw new IllegalArgumentException("verdict " + code + " takes no chain, got \"" + chain + "\"");
        }
        if (code > ACCEPT_CODE || code < RETURN_CODE) {
            throw new IllegalArgumentException("verdict code " + code + " is not one nf_tables knows");
        }
    }

    public static Verdict jump(String chain) {
        return new Verdict(JUMP_CODE, chain);
    }

    public static Verdict goTo(String chain) {
        return new Verdict(GOTO_CODE, chain);
    }

    /** "goto service-x", "drop": as nft writes it. */
    @Override
    public String toString() {
        return switch (code) {
            case ACCEPT_CODE -> "accept";
            case DROP_CODE -> "drop";
            case CONTINUE_CODE -> "continue";
            case BREAK_CODE -> "break";
            case JUMP_CODE -> "jump " + chain;
            case GOTO_CODE -> "goto " + chain;
            default -> "return";
        };
    }
}
