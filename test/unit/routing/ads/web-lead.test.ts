import { describe, expect, it } from 'vitest';
import type { AdsCatalog } from '../../../../src/routing/ads/ads-types.js';
import { adCourse } from '../../../fixtures/routing/ads-catalog.js';
import { cohortBaseName, matchWebCourse, webLeadName } from '../../../../src/routing/ads/web-lead.js';

const course = adCourse;
const CATALOG: AdsCatalog = {
  courses: new Map(
    [
      course('1', 'AT', 'Acompañante Terapéutico', { webName: 'Formación en Acompañamiento Terapéutico' }),
      course('2', 'TEA', 'Abordaje del TEA'),
      course('3', 'PSP', 'Psicopedagogía Clínica'),
      course('4', 'PSI', 'Psicología'),
    ].map((c) => [c.id, c]),
  ),
  ads: new Map(),
  cohorts: [
    { code: 'TEA', name: 'ATF - Curso de Abordaje Integral del Autismo - Marzo 2026', year: 2026, month: 3 },
    { code: 'TEA', name: 'Curso Abordaje TEA - Marzo 2024', year: 2024, month: 3 },
    { code: 'PSP', name: 'Curso Psicopedagogía Clínica - ON DEMAND', year: 2025, month: 1 },
  ],
};
const match = (text: string) => matchWebCourse(webLeadName(text)!, CATALOG)?.code ?? null;

describe('web leads', () => {
  it('when the text is not the website’s, then it is not a web lead', () => {
    expect(webLeadName('hola, quiero info')).toBeNull();
    expect(webLeadName('Hola! Quiero info sobre el curso  AT  en la web :)')).toBe('AT');
  });
  it('when a cohort name carries "Curso de", a month or ON DEMAND, then only the course name is kept (§D17)', () => {
    expect(cohortBaseName('ATF - Curso de Abordaje Integral del Autismo - Marzo 2026')).toBe(
      'Abordaje Integral del Autismo',
    );
    expect(cohortBaseName('Curso Psicopedagogía Clínica - ON DEMAND')).toBe('Psicopedagogía Clínica');
  });
  it('when the name is a code, the newest cohort’s name or a course name in any case and accents, then its course is found', () => {
    expect(match('… sobre el curso tea en la web')).toBe('TEA');
    expect(match('… sobre el curso abordaje integral del AUTISMO en la web')).toBe('TEA');
    expect(match('… sobre el curso PSICOPEDAGOGIA clinica en la web')).toBe('PSP');
    expect(match('… sobre el curso acompañante terapeutico en la web')).toBe('AT');
    expect(match('… sobre el curso Formacion en acompanamiento terapeutico en la web')).toBe('AT');
  });
  it('when only a short or generic word overlaps, then no course is guessed (§D17)', () => {
    expect(match('… sobre el curso Psicología Social Comunitaria Avanzada en la web')).toBeNull();
    expect(match('… sobre el curso Clínica en la web')).toBeNull();
    expect(match('… sobre el curso Abordaje en la web')).toBeNull();
  });
});
