using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;

namespace CompressBuild.Plan
{
    /// <summary>
    /// An immutable array with structural equality, so plan records compare by content (what
    /// Roslyn's incremental generator cache needs).
    /// </summary>
    public readonly struct EquatableArray<T> : IEquatable<EquatableArray<T>>, IReadOnlyList<T>
        where T : IEquatable<T>
    {
        private readonly T[]? _items;

        /// <summary>Wraps a copy of <paramref name="items"/>.</summary>
        public EquatableArray(IEnumerable<T> items) => _items = items.ToArray();

        /// <summary>An empty array.</summary>
        public static EquatableArray<T> Empty => new(Array.Empty<T>());

        /// <inheritdoc/>
        public T this[int index] => (_items ?? Array.Empty<T>())[index];

        /// <inheritdoc/>
        public int Count => _items?.Length ?? 0;

        /// <inheritdoc/>
        public bool Equals(EquatableArray<T> other)
        {
            var a = _items ?? Array.Empty<T>();
            var b = other._items ?? Array.Empty<T>();
            if (a.Length != b.Length) return false;
            for (int i = 0; i < a.Length; i++)
                if (!EqualityComparer<T>.Default.Equals(a[i], b[i])) return false;
            return true;
        }

        /// <inheritdoc/>
        public override bool Equals(object? obj) => obj is EquatableArray<T> other && Equals(other);

        /// <inheritdoc/>
        public override int GetHashCode()
        {
            unchecked
            {
                int h = 17;
                foreach (var item in _items ?? Array.Empty<T>()) h = h * 31 + (item?.GetHashCode() ?? 0);
                return h;
            }
        }

        /// <summary>Structural equality.</summary>
        public static bool operator ==(EquatableArray<T> left, EquatableArray<T> right) => left.Equals(right);

        /// <summary>Structural inequality.</summary>
        public static bool operator !=(EquatableArray<T> left, EquatableArray<T> right) => !left.Equals(right);

        /// <inheritdoc/>
        public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)(_items ?? Array.Empty<T>())).GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>Creates <see cref="EquatableArray{T}"/>s.</summary>
    public static class EquatableArray
    {
        /// <summary>Wraps the items.</summary>
        public static EquatableArray<T> Create<T>(params T[] items) where T : IEquatable<T> => new(items);

        /// <summary>Wraps the items.</summary>
        public static EquatableArray<T> ToEquatableArray<T>(this IEnumerable<T> items) where T : IEquatable<T> => new(items);
    }
}
