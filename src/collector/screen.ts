// Screen size as a width class, not exact pixels: WxH is a fingerprinting signal, the class is
// what reports need. Breakpoints follow common CSS ones (576 / 992 / 1440 px).

export type ScreenClass = 'mobile' | 'tablet' | 'laptop' | 'desktop';

export function screenClass(width: number | null): ScreenClass | null {
  if (width === null || width <= 0) return null;
  if (width < 576) return 'mobile';
  if (width < 992) return 'tablet';
  if (width < 1440) return 'laptop';
  return 'desktop';
}
