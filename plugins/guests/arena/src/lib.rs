//! A bump allocator for policy plugins. The host runs every call in a fresh instance, so nothing a
//! call allocates outlives it and nothing needs freeing. Allocations come from the memory the
//! instance starts with; only a call that needs more grows it, so the usual call neither grows
//! memory nor touches pages the host must hand back to the kernel afterwards.
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOCATOR: zhiyuan_plugin_arena::Arena = zhiyuan_plugin_arena::Arena::new();
//! ```

#![no_std]

use core::alloc::{GlobalAlloc, Layout};
use core::cell::Cell;
use core::ptr::null_mut;

const PAGE: usize = 65_536;

unsafe extern "C" {
    /// Where the linker's data ends and the heap begins.
    static __heap_base: u8;
}

pub struct Arena {
    next: Cell<usize>,
}

// SAFETY: a plugin instance runs on one thread; WebAssembly without the threads proposal has no
// other.
unsafe impl Sync for Arena {}

impl Arena {
    pub const fn new() -> Arena {
        Arena { next: Cell::new(0) }
    }
}

impl Default for Arena {
    fn default() -> Self {
        Arena::new()
    }
}

unsafe impl GlobalAlloc for Arena {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let mut next = self.next.get();
        if next == 0 {
            next = core::ptr::addr_of!(__heap_base) as usize;
        }
        let start = (next + layout.align() - 1) & !(layout.align() - 1);
        let Some(end) = start.checked_add(layout.size()) else {
            return null_mut();
        };
        let limit = core::arch::wasm32::memory_size(0) * PAGE;
        if end > limit && core::arch::wasm32::memory_grow(0, (end - limit).div_ceil(PAGE)) == usize::MAX {
            return null_mut();
        }
        self.next.set(end);
        start as *mut u8
    }

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // The last allocation grows in place.
        if ptr as usize + layout.size() == self.next.get() {
            let end = ptr as usize + new_size;
            let limit = core::arch::wasm32::memory_size(0) * PAGE;
            if end <= limit
                || core::arch::wasm32::memory_grow(0, (end - limit).div_ceil(PAGE)) != usize::MAX
            {
                self.next.set(end);
                return ptr;
            }
            return null_mut();
        }
        let new = unsafe { self.alloc(Layout::from_size_align_unchecked(new_size, layout.align())) };
        if !new.is_null() {
            unsafe { core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size)) };
        }
        new
    }
}
