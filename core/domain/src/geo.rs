//! Where something is: coordinates kept in WGS-84, the system of GPS and of the world's maps.
//! Chinese map pickers (Amap, Tencent, WeChat) give GCJ-02, the published obfuscation of
//! WGS-84 that maps of China must use; such coordinates are converted on the way in, and
//! answers say which system they use.
//!
//! The transform is the one published with GCJ-02 (Krasovsky ellipsoid constants), written here
//! rather than taken from a crate: the crates that carry it (`coordtransform`,
//! `coordtransform-rs`) invert it in one step, which is off by a metre or two, where a place
//! read back must be the place that was given.

use std::f64::consts::PI;

use serde::{Deserialize, Serialize};

use crate::{InvalidInput, Rule};

/// Which system a pair of coordinates is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CoordinateSystem {
    Wgs84,
    Gcj02,
}

/// A point in WGS-84, within China's bounds (where GCJ-02 is defined).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Coordinates {
    longitude: f64,
    latitude: f64,
}

/// The rectangle GCJ-02 is defined over, in degrees: China's territory within it.
const LONGITUDES: std::ops::RangeInclusive<f64> = 72.004..=137.8347;
const LATITUDES: std::ops::RangeInclusive<f64> = 0.8293..=55.8271;

/// The Krasovsky 1940 ellipsoid the transform is defined on: semi-major axis and eccentricity².
const AXIS: f64 = 6_378_245.0;
const ECCENTRICITY_SQUARED: f64 = 0.006_693_421_622_965_943;

/// The mean radius of the Earth (IUGG), for distances.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

impl Coordinates {
    /// Coordinates given in `system`, kept in WGS-84. Refused unless both are numbers within
    /// China's bounds.
    pub fn parse(
        longitude: f64,
        latitude: f64,
        system: CoordinateSystem,
        field: &str,
    ) -> Result<Coordinates, InvalidInput> {
        if !LONGITUDES.contains(&longitude) || !LATITUDES.contains(&latitude) {
            return Err(InvalidInput::new(field, Rule::CoordinatesOutsideChina));
        }
        let (longitude, latitude) = match system {
            CoordinateSystem::Wgs84 => (longitude, latitude),
            CoordinateSystem::Gcj02 => gcj02_to_wgs84(longitude, latitude),
        };
        Ok(Coordinates {
            longitude,
            latitude,
        })
    }

    /// Longitude and latitude in WGS-84.
    pub fn wgs84(&self) -> (f64, f64) {
        (self.longitude, self.latitude)
    }

    /// Longitude and latitude in `system`, for a map that draws in it.
    pub fn in_system(&self, system: CoordinateSystem) -> (f64, f64) {
        match system {
            CoordinateSystem::Wgs84 => self.wgs84(),
            CoordinateSystem::Gcj02 => wgs84_to_gcj02(self.longitude, self.latitude),
        }
    }

    /// The great-circle distance in metres (haversine on a sphere of the mean radius: within
    /// 0.5% of the ellipsoid's, which is far finer than "near me" needs).
    pub fn distance_m(&self, other: &Coordinates) -> f64 {
        let (lat1, lat2) = (self.latitude.to_radians(), other.latitude.to_radians());
        let dlat = lat2 - lat1;
        let dlon = (other.longitude - self.longitude).to_radians();
        let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
    }
}

/// The published forward transform.
fn wgs84_to_gcj02(longitude: f64, latitude: f64) -> (f64, f64) {
    let (dlon, dlat) = offset(longitude, latitude);
    (longitude + dlon, latitude + dlat)
}

/// The inverse, by fixed-point iteration on the forward transform until it gives back the
/// GCJ-02 point to within 1e-10 degrees (about 0.01 mm); it converges in a few steps because
/// the offset changes slowly with position.
fn gcj02_to_wgs84(longitude: f64, latitude: f64) -> (f64, f64) {
    let (mut lon, mut lat) = (longitude, latitude);
    for _ in 0..30 {
        let (forward_lon, forward_lat) = wgs84_to_gcj02(lon, lat);
        let (error_lon, error_lat) = (forward_lon - longitude, forward_lat - latitude);
        lon -= error_lon;
        lat -= error_lat;
        if error_lon.abs() < 1e-10 && error_lat.abs() < 1e-10 {
            break;
        }
    }
    (lon, lat)
}

/// GCJ-02's offset from WGS-84 at a point, in degrees of longitude and latitude.
fn offset(longitude: f64, latitude: f64) -> (f64, f64) {
    let (x, y) = (longitude - 105.0, latitude - 35.0);
    let waves = |a: f64, b: f64| (a.sin() * 20.0 + b.sin() * 20.0) * 2.0 / 3.0;
    let mut dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    dlat += waves(6.0 * x * PI, 2.0 * x * PI);
    dlat += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    dlat += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    let mut dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    dlon += waves(6.0 * x * PI, 2.0 * x * PI);
    dlon += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    dlon += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    let radians = latitude.to_radians();
    let magic = 1.0 - ECCENTRICITY_SQUARED * radians.sin().powi(2);
    let root = magic.sqrt();
    let dlat = dlat * 180.0 / ((AXIS * (1.0 - ECCENTRICITY_SQUARED)) / (magic * root) * PI);
    let dlon = dlon * 180.0 / (AXIS / root * radians.cos() * PI);
    (dlon, dlat)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tiananmen, as the published transform's implementations give it (the vector of
    /// `coordtransform-rs`).
    #[test]
    fn the_forward_transform_gives_the_published_values() {
        let (lon, lat) = wgs84_to_gcj02(116.404, 39.915);
        assert!((lon - 116.410_244_499_169_38).abs() < 1e-9, "{lon}");
        assert!((lat - 39.916_404_281_501_64).abs() < 1e-9, "{lat}");
    }

    #[test]
    fn gcj02_read_back_is_the_point_given_across_china() {
        let mut worst: f64 = 0.0;
        let mut lon = 73.0;
        while lon < 135.0 {
            let mut lat = 18.0;
            while lat < 54.0 {
                let point = Coordinates::parse(lon, lat, CoordinateSystem::Gcj02, "/at").unwrap();
                let (back_lon, back_lat) = point.in_system(CoordinateSystem::Gcj02);
                worst = worst
                    .max((back_lon - lon).abs())
                    .max((back_lat - lat).abs());
                // And it moved: GCJ-02 is hundreds of metres off WGS-84 in China.
                let (wgs_lon, wgs_lat) = point.wgs84();
                assert!((wgs_lon - lon).abs() + (wgs_lat - lat).abs() > 1e-4);
                lat += 0.73;
            }
            lon += 0.91;
        }
        assert!(worst < 1e-9, "read back {worst} degrees off");
    }

    #[test]
    fn coordinates_outside_china_or_not_numbers_are_refused() {
        for (lon, lat) in [
            (2.35, 48.85),
            (116.4, 60.0),
            (140.0, 35.0),
            (f64::NAN, 39.9),
            (116.4, f64::INFINITY),
            (-116.4, -39.9),
        ] {
            for system in [CoordinateSystem::Wgs84, CoordinateSystem::Gcj02] {
                let refused = Coordinates::parse(lon, lat, system, "/location").unwrap_err();
                assert_eq!(refused.rule, Rule::CoordinatesOutsideChina);
                assert_eq!(refused.field, "/location");
            }
        }
    }

    #[test]
    fn distances_are_great_circle_metres() {
        let at = |lon, lat| Coordinates::parse(lon, lat, CoordinateSystem::Wgs84, "/").unwrap();
        // A degree of latitude on the mean sphere.
        let degree = at(113.38, 31.0).distance_m(&at(113.38, 32.0));
        assert!((degree - 111_195.08).abs() < 0.01, "{degree}");
        assert_eq!(at(113.38, 31.7).distance_m(&at(113.38, 31.7)), 0.0);
        // Suizhou to Wuhan, about 150 km as the crow flies.
        let suizhou_wuhan = at(113.38, 31.69).distance_m(&at(114.31, 30.59));
        assert!(
            (140_000.0..160_000.0).contains(&suizhou_wuhan),
            "{suizhou_wuhan}"
        );
    }
}
