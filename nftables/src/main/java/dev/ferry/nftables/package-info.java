/**
 * An nf_tables client over netlink (NETLINK_NETFILTER), with no nft binary, in google/nftables'
 * shape: a file per kernel object ({@link dev.ferry.nftables.Table}, {@link dev.ferry.nftables.Chain},
 * {@link dev.ferry.nftables.Rule}, {@link dev.ferry.nftables.NftSet} for sets and maps,
 * {@link dev.ferry.nftables.Element}) and per expression ({@link dev.ferry.nftables.Expression} and
 * its records: payload, meta, cmp, bitwise, immediate, lookup, ct, nat, masq, reject, counter,
 * numgen, fib, dynset). {@link dev.ferry.nftables.Nftables} buffers add, delete and flush commands
 * and sends them as one transaction, which the kernel applies whole or not at all; a refusal names
 * the command and, when the kernel points at one (extended ACK), the expression or element. Reads
 * (chains, rules, sets, elements of a table) decode into the same objects; the generation
 * (NFT_MSG_GETGEN) guards a transaction against concurrent changes.
 *
 * <p>Messages are laid out as nft 1.0.6 lays them out (attribute order, nft's user data for
 * comments and set key types), so {@code nft list} shows what we program exactly as nft would have
 * written it; the tests hold the bytes nft sent on this kernel (resources nft-netlink/) and compare
 * listings of both on the real kernel. {@link dev.ferry.nftables.KubeProxyTables} removes upstream
 * nftables mode's tables.
 */
package dev.ferry.nftables;
