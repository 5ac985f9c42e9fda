package dev.ferry.nftables;

import dev.ferry.nativeio.AttributeWriter;
import dev.ferry.nativeio.NetlinkAttribute;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * A rule's expression list (NFTA_RULE_EXPRESSIONS): each an NFTA_LIST_ELEM of {NFTA_EXPR_NAME,
 * NFTA_EXPR_DATA}; and the attribute helpers the expressions share. An expression the kernel
 * reports that we do not know (a foreign rule) is kept whole as an {@link UnknownExpression}.
 */
final class ExpressionCodec {

    private static final Map<String, Function<List<NetlinkAttribute>, Expression>> DECODERS = Map.ofEntries(
            Map.entry(Payload.NAME, Payload::decode), Map.entry(Meta.NAME, Meta::decode),
            Map.entry(Cmp.NAME, Cmp::decode), Map.entry(Bitwise.NAME, Bitwise::decode),
            Map.entry(Immediate.NAME, Immediate::decode), Map.entry(Lookup.NAME, Lookup::decode),
            Map.entry(Ct.NAME, Ct::decode), Map.entry(Nat.NAME, Nat::decode), Map.entry(Masq.NAME, Masq::decode),
            Map.entry(Reject.NAME, Reject::decode), Map.entry(Counter.NAME, Counter::decode),
            Map.entry(Numgen.NAME, Numgen::decode), Map.entry(Fib.NAME, Fib::decode),
            Map.entry(Dynset.NAME, Dynset::decode));

    private ExpressionCodec() {
    }

    /** Writes {@code expressions} as the nested list attribute {@code type}. */
    static void encodeList(AttributeWriter w, int type, List<Expression> expressions) {
        w.beginNested(type);
        for (Expression e : expressions) {
            w.beginNested(NftNumbers.NFTA_LIST_ELEM).putString(NftNumbers.NFTA_EXPR_NAME, e.kind())
                    .beginNested(NftNumbers.NFTA_EXPR_DATA);
            encodeData(e, w);
            w.endNested().endNested();
        }
        w.endNested();
    }

    private static void encodeData(Expression e, AttributeWriter w) {
        if (e instanceof Payload x) {
            x.encode(w);
        } else if (e instanceof Meta x) {
            x.encode(w);
        } else if (e instanceof Cmp x) {
            x.encode(w);
        } else if (e instanceof Bitwise x) {
            x.encode(w);
        } else if (e instanceof Immediate x) {
            x.encode(w);
        } else if (e instanceof Lookup x) {
            x.encode(w);
        } else if (e instanceof Ct x) {
            x.encode(w);
        } else if (e instanceof Nat x) {
            x.encode(w);
        } else if (e instanceof Masq x) {
            x.encode(w);
        } else if (e instanceof Reject x) {
            x.encode(w);
        } else if (e instanceof Counter x) {
            x.encode(w);
        } else if (e instanceof Numgen x) {
            x.encode(w);
        } else if (e instanceof Fib x) {
            x.encode(w);
        } else if (e instanceof Dynset x) {
            x.encode(w);
        } else if (e instanceof UnknownExpression x) {
            x.encode(w);
        }
    }

    /** The expressions of a list attribute's elements. */
    static List<Expression> decodeList(NetlinkAttribute list) {
        List<Expression> out = new ArrayList<>();
        for (NetlinkAttribute element : list.nested()) {
            List<NetlinkAttribute> parts = element.nested();
            String name = string(parts, NftNumbers.NFTA_EXPR_NAME);
            List<NetlinkAttribute> data = NetlinkAttribute.find(parts, NftNumbers.NFTA_EXPR_DATA)
                    .map(NetlinkAttribute::nested).orElse(List.of());
            out.add(decode(name, data));
        }
        return out;
    }

    static Expression decode(String name, List<NetlinkAttribute> data) {
        Function<List<NetlinkAttribute>, Expression> decoder = DECODERS.get(name);
        if (decoder != null) {
            try {
                return decoder.apply(data);
            } catch (IllegalArgumentException e) {
                // A form of a known expression we do not model (another key, a set form): kept raw.
            }
        }
        return UnknownExpression.of(name, data);
    }

    // Helpers the expressions share.

    static void putData(AttributeWriter w, int type, Data data) {
        w.beginNested(type).put(NftNumbers.NFTA_DATA_VALUE, data.raw()).endNested();
    }

    static void putVerdict(AttributeWriter w, int type, Verdict verdict) {
        w.beginNested(type).beginNested(NftNumbers.NFTA_DATA_VERDICT).putBe32(NftNumbers.NFTA_VERDICT_CODE, verdict.code());
        if (verdict.chain() != null) {
            w.putString(NftNumbers.NFTA_VERDICT_CHAIN, verdict.chain());
        }
        w.endNested().endNested();
    }

    static Optional<NetlinkAttribute> find(List<NetlinkAttribute> a, int type) {
        return NetlinkAttribute.find(a, type);
    }

    static int u32(List<NetlinkAttribute> a, int type) {
        return (int) find(a, type).orElseThrow(() -> missing(type)).be32();
    }

    static int u32(List<NetlinkAttribute> a, int type, int absent) {
        return find(a, type).map(x -> (int) x.be32()).orElse(absent);
    }

    static String string(List<NetlinkAttribute> a, int type) {
        return find(a, type).orElseThrow(() -> missing(type)).string();
    }

    /** The value of an nft_data attribute holding {VALUE}; null when it holds a verdict. */
    static Data data(List<NetlinkAttribute> a, int type) {
        List<NetlinkAttribute> d = find(a, type).orElseThrow(() -> missing(type)).nested();
        return find(d, NftNumbers.NFTA_DATA_VALUE).map(v -> Data.of(v.bytes())).orElse(null);
    }

    /** The verdict of an nft_data attribute holding {VERDICT}; null when it holds a value. */
    static Verdict verdict(List<NetlinkAttribute> a, int type) {
        List<NetlinkAttribute> d = find(a, type).orElseThrow(() -> missing(type)).nested();
        return find(d, NftNumbers.NFTA_DATA_VERDICT).map(v -> {
            List<NetlinkAttribute> n = v.nested();
            return new Verdict(u32(n, NftNumbers.NFTA_VERDICT_CODE),
                    find(n, NftNumbers.NFTA_VERDICT_CHAIN).map(NetlinkAttribute::string).orElse(null));
        }).orElse(null);
    }

    /** The constant of {@code values} whose kernel number is {@code number}. */
    static <E extends Enum<E>> E byNumber(E[] values, java.util.function.ToIntFunction<E> numberOf, int number,
                                          String what) {
        for (E e : values) {
            if (numberOf.applyAsInt(e) == number) {
                return e;
            }
        }
        throw new IllegalArgumentException(what + " " + number + " is not one this client knows");
    }

    static IllegalArgumentException missing(int type) {
        return new IllegalArgumentException("attribute " + type + " is missing");
    }

    static int register(String what, int register) {
        if (register < 0 || register > 23 || (register > 4 && register < 8)) {
            throw new IllegalArgumentException(what + " register " + register + ": must be 0..4 or 8..23");
        }
        return register;
    }
}
