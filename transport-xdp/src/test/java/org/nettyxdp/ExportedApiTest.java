package org.nettyxdp;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Member;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The exported packages ({@code channel}, {@code buffer}, {@code packet}) show users no internal
 * type: no public or protected member of a public type in them (constructor, method, field,
 * superclass, interface, type parameter, thrown exception) names a type of {@code sys},
 * {@code netlink}, {@code bpf}, {@code socket} or {@code xsk}.
 */
class ExportedApiTest {
    private static final List<String> EXPORTED = List.of("org.nettyxdp.channel", "org.nettyxdp.buffer",
            "org.nettyxdp.packet");
    private static final List<String> INTERNAL = List.of("org.nettyxdp.sys.", "org.nettyxdp.netlink.",
            "org.nettyxdp.bpf.", "org.nettyxdp.socket.", "org.nettyxdp.xsk.");

    @Test
    void exportedPackagesAreTheModulesExports() {
        Module module = ExportedApiTest.class.getModule();
        if (module.isNamed()) {
            Set<String> exported = new TreeSet<>();
            module.getDescriptor().exports().forEach(e -> exported.add(e.source()));
            assertEquals(new TreeSet<>(EXPORTED), exported);
        }
    }

    @Test
    void noExportedSignatureNamesAnInternalType() throws Exception {
        List<Class<?>> types = exportedTypes();
        assertTrue(types.size() > 20, "found the exported types: " + types);
        assertTrue(types.contains(org.nettyxdp.buffer.UmemFramePool.class), types.toString());
        Set<String> leaks = new TreeSet<>();
        for (Class<?> type : types) {
            leaks.addAll(leaks(type));
        }
        assertEquals(Set.of(), leaks, "internal types in exported signatures");
    }

    @Test
    void theCheckFindsInternalTypes() {
        // an internal class that is public for the channel: its signatures name internal types
        Set<String> leaks = leaks(org.nettyxdp.xsk.XdpFastPath.class);
        assertTrue(leaks.stream().anyMatch(l -> l.contains("open parameter: org.nettyxdp.netlink.LinkInfo")), leaks.toString());
        assertTrue(leaks.stream().anyMatch(l -> l.contains("returns: org.nettyxdp.xsk.FastPathCounters")), leaks.toString());
    }

    /** Where the public and protected members of {@code type} name an internal type. */
    private static Set<String> leaks(Class<?> type) {
        Set<String> leaks = new TreeSet<>();
        String where = type.getName();
        check(leaks, where + " extends", type.getGenericSuperclass());
        for (Type i : type.getGenericInterfaces()) {
            check(leaks, where + " implements", i);
        }
        for (TypeVariable<?> v : type.getTypeParameters()) {
            check(leaks, where + " type parameter " + v.getName(), v);
        }
        for (Field f : type.getDeclaredFields()) {
            if (visible(f)) {
                check(leaks, where + "." + f.getName(), f.getGenericType());
            }
        }
        for (Constructor<?> c : type.getDeclaredConstructors()) {
            if (visible(c)) {
                checkExecutable(leaks, where + ".<init>", c);
            }
        }
        Set<Method> methods = new HashSet<>(List.of(type.getDeclaredMethods()));
        for (Method m : type.getMethods()) {
            if (m.getDeclaringClass().getName().startsWith("org.nettyxdp.")) {
                methods.add(m); // inherited from one of ours, possibly not exported
            }
        }
        for (Method m : methods) {
            if (visible(m) && !m.isSynthetic() && !m.isBridge()) {
                checkExecutable(leaks, where + "." + m.getName(), m);
                check(leaks, where + "." + m.getName() + " returns", m.getGenericReturnType());
            }
        }
        return leaks;
    }

    private static boolean visible(Member m) {
        return (m.getModifiers() & (Modifier.PUBLIC | Modifier.PROTECTED)) != 0;
    }

    private static void checkExecutable(Set<String> leaks, String where, Executable e) {
        for (Type p : e.getGenericParameterTypes()) {
            check(leaks, where + " parameter", p);
        }
        for (Type x : e.getGenericExceptionTypes()) {
            check(leaks, where + " throws", x);
        }
        for (TypeVariable<?> v : e.getTypeParameters()) {
            check(leaks, where + " type parameter " + v.getName(), v);
        }
    }

    private static void check(Set<String> leaks, String where, Type type) {
        for (Class<?> named : named(type, new HashSet<>())) {
            for (String internal : INTERNAL) {
                if (named.getName().startsWith(internal)) {
                    leaks.add(where + ": " + named.getName());
                }
            }
        }
    }

    /** Every class a (generic) type names, arrays, arguments, bounds and owners included. */
    private static List<Class<?>> named(Type type, Set<Type> seen) {
        List<Class<?>> out = new ArrayList<>();
        if (type == null || !seen.add(type)) {
            return out;
        }
        if (type instanceof Class<?> c) {
            while (c.isArray()) {
                c = c.getComponentType();
            }
            out.add(c);
        } else if (type instanceof ParameterizedType p) {
            out.addAll(named(p.getRawType(), seen));
            out.addAll(named(p.getOwnerType(), seen));
            for (Type a : p.getActualTypeArguments()) {
                out.addAll(named(a, seen));
            }
        } else if (type instanceof WildcardType w) {
            for (Type b : w.getUpperBounds()) {
                out.addAll(named(b, seen));
            }
            for (Type b : w.getLowerBounds()) {
                out.addAll(named(b, seen));
            }
        } else if (type instanceof TypeVariable<?> v) {
            for (Type b : v.getBounds()) {
                out.addAll(named(b, seen));
            }
        } else if (type instanceof GenericArrayType a) {
            out.addAll(named(a.getGenericComponentType(), seen));
        }
        return out;
    }

    /** The public types of the exported packages, nested public types included, from the library's classes. */
    private static List<Class<?>> exportedTypes() throws IOException, URISyntaxException, ClassNotFoundException {
        Path root = Path.of(org.nettyxdp.buffer.UmemByteBuf.class.getProtectionDomain().getCodeSource()
                .getLocation().toURI());
        List<Class<?>> types = new ArrayList<>();
        for (String pkg : EXPORTED) {
            Path dir = root.resolve(pkg.replace('.', '/'));
            List<Path> files;
            try (Stream<Path> s = Files.list(dir)) {
                files = s.filter(f -> f.toString().endsWith(".class")).sorted().toList();
            }
            for (Path f : files) {
                String simple = f.getFileName().toString().replace(".class", "");
                if (simple.equals("package-info")) {
                    continue;
                }
                Class<?> c = Class.forName(pkg + "." + simple.replace('/', '.'), false,
                        ExportedApiTest.class.getClassLoader());
                if (isExported(c)) {
                    types.add(c);
                }
            }
        }
        return types;
    }

    /** Public, and (if nested) inside public types only; anonymous and local classes are not. */
    private static boolean isExported(Class<?> c) {
        for (Class<?> t = c; t != null; t = t.getDeclaringClass()) {
            if (!Modifier.isPublic(t.getModifiers()) || t.isAnonymousClass() || t.isLocalClass()) {
                return false;
            }
        }
        return true;
    }
}
