package dev.ferry.ipvs.link;

import dev.ferry.core.IpAddresses;
import dev.ferry.nativeio.rtnetlink.AddressChanges;
import dev.ferry.nativeio.rtnetlink.Links;

import java.net.InetAddress;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Runs inside a user-mode-linux guest for {@link KubeIpvs0IT}: one step of kube-ipvs0's life through our
 * rtnetlink client, printing what it did for the test to check (and iproute2, run next, to confirm).
 * <ul>
 * <li>{@code ensure}: "absent before", then the index the first and the second ensureDummy return, then the link</li>
 * <li>{@code sync ADDRESS...}: "added [..] removed [..]" of syncAddresses, sorted</li>
 * <li>{@code delete}: what deleteLink returns the first and the second time, then whether the link is left</li>
 * </ul>
 */
public final class KubeIpvs0Probe {

    static final String LINK = "kube-ipvs0";

    public static void main(String[] args) throws Exception {
        try (Links links = Links.open()) {
            switch (args[0]) {
                case "ensure" -> {
                    System.out.println("before: " + (links.index(LINK).isPresent() ? "present" : "absent"));
                    int first = links.ensureDummy(LINK);
                    int second = links.ensureDummy(LINK);
                    System.out.println("ensureDummy: " + first + " then " + second);
                    System.out.println("link: " + links.link(LINK).orElseThrow());
                }
                case "sync" -> {
                    Set<InetAddress> wanted = new LinkedHashSet<>();
                    for (String a : List.of(args).subList(1, args.length)) {
                        wanted.add(InetAddress.getByName(a));
                    }
                    int index = links.index(LINK).orElseThrow();
                    AddressChanges changes = links.syncAddresses(index, wanted);
                    System.out.println("sync: added " + sorted(changes.added()) + " removed " + sorted(changes.removed()));
                }
                case "delete" -> {
                    boolean first = links.deleteLink(LINK);
                    boolean second = links.deleteLink(LINK);
                    System.out.println("deleteLink: " + first + " then " + second + ", left: "
                            + (links.index(LINK).isPresent() ? "present" : "absent"));
                }
                default -> throw new IllegalArgumentException("unknown step " + args[0]);
            }
        }
    }

    private static List<String> sorted(Set<InetAddress> addresses) {
        return addresses.stream().map(IpAddresses::format).sorted().collect(Collectors.toList());
    }

    private KubeIpvs0Probe() {
    }
}
