//! The web scanner's QR reader. The page's script asks for room for a frame (`frame`), writes
//! the camera's picture there as grey pixels, one byte each, row by row, and asks for the text
//! of the first QR code found in it (`read`, then `text`).

use std::cell::RefCell;

/// The largest frame read: a phone's camera at 4K. A scanner downscales well below this.
const MAX_PIXELS: usize = 3840 * 2160;

#[derive(Default)]
struct Frame {
    width: usize,
    height: usize,
    pixels: Vec<u8>,
    text: Vec<u8>,
}

thread_local! {
    static FRAME: RefCell<Frame> = RefCell::new(Frame::default());
}

/// Makes room for a frame of `width` by `height` grey pixels and answers where to write them,
/// or null for a frame that is empty or larger than `MAX_PIXELS`.
#[unsafe(no_mangle)]
pub extern "C" fn frame(width: u32, height: u32) -> *mut u8 {
    let (width, height) = (width as usize, height as usize);
    let Some(pixels) = width.checked_mul(height) else {
        return std::ptr::null_mut();
    };
    if pixels == 0 || pixels > MAX_PIXELS {
        return std::ptr::null_mut();
    }
    FRAME.with_borrow_mut(|frame| {
        frame.width = width;
        frame.height = height;
        frame.pixels.clear();
        frame.pixels.resize(pixels, 0);
        frame.pixels.as_mut_ptr()
    })
}

/// Reads the frame last written: the length in bytes of the UTF-8 text of the first QR code
/// that decodes, kept at `text()`, or 0 where none does.
#[unsafe(no_mangle)]
pub extern "C" fn read() -> u32 {
    FRAME.with_borrow_mut(|frame| {
        frame.text.clear();
        if frame.pixels.len() != frame.width * frame.height || frame.pixels.is_empty() {
            return 0;
        }
        let (width, pixels) = (frame.width, &frame.pixels);
        let mut image = rqrr::PreparedImage::prepare_from_greyscale(
            frame.width,
            frame.height,
            |x, y| pixels[y * width + x],
        );
        let text = image
            .detect_grids()
            .into_iter()
            .find_map(|grid| grid.decode().ok().map(|(_, text)| text));
        match text {
            Some(text) => {
                frame.text = text.into_bytes();
                u32::try_from(frame.text.len()).unwrap_or(0)
            }
            None => 0,
        }
    })
}

/// Where the text `read` found is kept, until the next `read`.
#[unsafe(no_mangle)]
pub extern "C" fn text() -> *const u8 {
    FRAME.with_borrow(|frame| frame.text.as_ptr())
}
