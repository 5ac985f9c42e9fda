package dev.ferry.nftables;

import java.io.IOException;

/**
 * Run by {@link NftablesKernelTest} in a child JVM without CAP_NET_ADMIN: tries to delete
 * {@code ip kube-proxy} and prints what happened, then runs the removal at start (which logs).
 */
final class NoNetAdminProbe {

    private NoNetAdminProbe() {
    }

    public static void main(String[] args) {
        try (Nftables nft = Nftables.open()) {
            System.out.println(nft.deleteIfExists(KubeProxyTables.ALL.get(0)) ? "deleted" : "absent");
        } catch (IOException e) {
            System.out.println("refused: " + e.getMessage());
        }
        System.out.println("remove: " + KubeProxyTables.remove());
    }
}
